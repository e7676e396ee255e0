// The book's `kit --help` and `kit <command> --help` listings (checked in verbatim from the
// Hyperware book, test/cli/__snapshots__/book-kit-help.txt) against kit itself: every command of
// the book under the same name and aliases, in `kit --help` too, and each command's arguments and
// flags with the same long and short names.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Config } from '@oclif/core';
import { runKit } from '../helpers/kit.js';
import { ROOT } from './helpers/cli.js';

const BOOK = readFileSync(join(ROOT, 'test', 'cli', '__snapshots__', 'book-kit-help.txt'), 'utf8');

/** Where kit cannot follow the book, and why. */
const SHORT_NAME_EXCEPTIONS: Record<string, string> = {
  // The book's `kit chain --help` gives -v to both --version and --verbose (clap accepted the clash).
  'chain --version': 'v',
};

interface BookCommand {
  args: { name: string; required: boolean }[];
  flags: { long: string; short?: string }[];
}

function bookListings(): { top: Map<string, string[]>; commands: Map<string, BookCommand> } {
  const blocks = BOOK.split(/^(?=\$ kit )/m).filter((b) => b.startsWith('$ kit '));
  const top = new Map<string, string[]>();
  const commands = new Map<string, BookCommand>();
  for (const block of blocks) {
    const head = /^\$ kit (?:(\S+) )?--help/.exec(block);
    assert.ok(head, block.slice(0, 40));
    if (head[1] === undefined) {
      const list = block.split(/^Commands:$/m)[1]?.split(/^Options:$/m)[0] ?? '';
      for (const m of list.matchAll(/^ {2}([a-z-]+) .*?(?:\[aliases: ([^\]]+)\])?$/gm)) {
        top.set(m[1] as string, m[2] ? m[2].split(',').map((a) => a.trim()) : []);
      }
      continue;
    }
    if (commands.has(head[1])) continue;
    const usage = /^Usage: kit \S+ (.*)$/m.exec(block)?.[1] ?? '';
    // Positional arguments: [NAME] or <NAME>, but not [OPTIONS] nor a flag's value (`--home <HOME>`).
    const args = [...usage.matchAll(/\[([A-Z_]+)\]|<([A-Z_]+)>/g)]
      .filter((m) => m[1] !== 'OPTIONS' && !/--[a-z-]+ $/.test(usage.slice(0, m.index)))
      .map((m) => ({ name: (m[1] ?? m[2] ?? '').toLowerCase(), required: m[2] !== undefined }));
    const flags = [...(block.split(/^Options:$/m)[1] ?? '').matchAll(/^ {2}(?:-(\w), )? *--([a-z-]+)/gm)]
      .filter((m) => m[2] !== 'help')
      .map((m) => ({ long: m[2] as string, short: m[1] }));
    commands.set(head[1], { args, flags });
  }
  return { top, commands };
}

test('the book listing was read: 17 commands and help, with their options', () => {
  const { top, commands } = bookListings();
  assert.equal(top.size, 18);
  assert.ok(top.has('help'));
  assert.equal(commands.size, 15, 'every command with a --help listing in the book');
  assert.deepEqual(commands.get('connect')?.flags, [
    { long: 'disconnect', short: 'd' },
    { long: 'host', short: 'o' },
    { long: 'port', short: 'p' },
  ]);
  assert.deepEqual(commands.get('inject-message')?.args, [
    { name: 'process', required: true },
    { name: 'body_json', required: true },
  ]);
});

test('every command of the book exists with the same aliases, arguments and flags', async () => {
  const { top, commands } = bookListings();
  const config = await Config.load({ root: ROOT });
  for (const [id, aliases] of top) {
    const c = config.findCommand(id);
    assert.ok(c, `kit ${id} is missing`);
    if (id === 'help') continue;
    assert.deepEqual([...c.aliases].sort(), [...aliases].sort(), `aliases of kit ${id}`);
    const book = commands.get(id);
    if (!book) continue;
    const args = Object.entries(c.args).map(([name, a]) => ({ name, required: Boolean(a.required) }));
    assert.deepEqual(args.slice(0, book.args.length), book.args, `arguments of kit ${id}`);
    for (const f of book.flags) {
      const ours: { char?: string } | undefined = c.flags[f.long];
      assert.ok(ours, `kit ${id} has no --${f.long}`);
      const expected = SHORT_NAME_EXCEPTIONS[`${id} --${f.long}`] === f.short ? undefined : f.short;
      assert.equal(ours.char, expected, `short name of kit ${id} --${f.long}`);
    }
  }
});

test('`kit --help` lists every command of the book’s `kit --help` with its aliases', async () => {
  const { top } = bookListings();
  const r = await runKit(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const [id, aliases] of top) {
    const line = new RegExp(`^ {2}${id} +.*${aliases.length ? `\\[aliases: ${aliases.join(', ')}\\]` : ''}$`, 'm');
    assert.match(r.stdout.replace(/\n {20,}/g, ' '), line, `kit --help lists ${id}`);
  }
});
