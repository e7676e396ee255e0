// oclif command_not_found hook: `kit bulid` says "did you mean `kit build`?", as clap does in the
// real kit. The error goes on to bin/run.js, which prints the suggestion as the hint.

import { Errors, type Hook } from '@oclif/core';

/** Edit distance (insert, delete, substitute, swap two neighbours), for typos. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The commands `typed` is most likely a typo of (at most two edits, a third of its length). */
export function closestCommands(typed: string, ids: string[]): string[] {
  const limit = Math.min(2, Math.max(1, Math.floor(typed.length / 3)));
  const scored = ids.map((id) => ({ id, d: editDistance(typed, id) })).filter((s) => s.d <= limit);
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).map((s) => s.id);
}

const hook: Hook<'command_not_found'> = async (opts) => {
  // Only the commands themselves: the one-letter aliases would match any short typo.
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '));
  const typed = opts.id.replaceAll(':', ' ');
  const near = closestCommands(typed, ids);
  const error = new Errors.CLIError(`command ${typed} not found`, {
    suggestions: near.length > 0 ? [`did you mean ${near.map((id) => `\`kit ${id}\``).join(' or ')}?`] : undefined,
  });
  throw error;
};

export default hook;
