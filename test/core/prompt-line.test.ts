// Log lines while the node's prompt shows: written above `fake.dev > ` (which is drawn again),
// not appended to it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { showingPrompt, writeLine } from '../../src/core/prompt-line.js';

function tty() {
  let text = '';
  return {
    isTTY: true,
    write: (s: string) => {
      text += s;
      return true;
    },
    text: () => text,
  };
}

describe('a line written while a prompt shows', () => {
  test('goes above the prompt, which is drawn again; once the prompt ends, lines are plain', () => {
    const out = tty();
    const end = showingPrompt(out, () => out.write('fake.dev > '));
    out.write('fake.dev > ');
    writeLine(out, 'installed my-app:template.os version 85bbf5a1c2d3');
    assert.equal(out.text(), 'fake.dev > \r\x1b[2Kinstalled my-app:template.os version 85bbf5a1c2d3\nfake.dev > ');
    end();
    writeLine(out, 'stopped');
    assert.equal(out.text().slice(-8), 'stopped\n');
    assert.ok(!out.text().endsWith('\x1b[2Kstopped\n'));
  });

  test('an error line on the same terminal (stderr) also clears the prompt line first', () => {
    const stdout = tty();
    const stderr = tty();
    const end = showingPrompt(stdout, () => stdout.write('fake.dev > '));
    writeLine(stderr, 'Error: x');
    assert.equal(stderr.text(), '\r\x1b[2KError: x\n');
    assert.equal(stdout.text(), 'fake.dev > ');
    end();
  });

  test('a pipe (no terminal) gets plain lines', () => {
    const pipe = { write: (s: string) => chunks.push(s) };
    const chunks: string[] = [];
    writeLine(pipe, 'hello');
    assert.deepEqual(chunks, ['hello\n']);
  });
});
