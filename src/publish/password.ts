// The keystore password: KIT_KEYSTORE_PASSWORD when set (CI, tests), else asked on the terminal
// without echo. With neither there is no way to ask, and kit says so instead of hanging.

import { KitError } from '../cli/errors.js';

export const PASSWORD_ENV = 'KIT_KEYSTORE_PASSWORD';

export async function keystorePassword(prompt = 'Enter password: '): Promise<string> {
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return env;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new KitError('the keystore needs a password and there is no terminal to ask it on', {
      hint: `set ${PASSWORD_ENV}, or run kit publish in a terminal`,
    });
  }
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let pw = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(pw);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new KitError('cancelled'));
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
