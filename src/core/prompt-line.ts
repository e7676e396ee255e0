// Output while an interactive prompt is showing (the node's `fake.dev > `): a line is written
// above the prompt, which is then drawn again with what was being typed, instead of being
// appended to it. The node's terminal registers its prompt; the logger writes through here.

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

let active: { stream: Stream; redraw: () => void } | undefined;

/** While a prompt shows on `stream`; returns the call that ends it. */
export function showingPrompt(stream: Stream, redraw: () => void): () => void {
  const mine = { stream, redraw };
  active = mine;
  return () => {
    if (active === mine) active = undefined;
  };
}

/** Writes `line` and a newline to `stream`, above the prompt if one shows on the same terminal. */
export function writeLine(stream: Stream, line: string): void {
  const prompt = active;
  // stderr and stdout on one terminal share the prompt's line.
  if (prompt && (prompt.stream === stream || (prompt.stream.isTTY === true && stream.isTTY === true))) {
    stream.write(`\r\x1b[2K${line}\n`);
    prompt.redraw();
  } else stream.write(`${line}\n`);
}
