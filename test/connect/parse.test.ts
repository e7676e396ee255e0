import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KitError } from '../../src/cli/errors.js';
import { parseNodePort, sshCommand } from '../../src/connect/index.js';

test('the node port is the one listening port in 8080-8999 (lsof, ss and netstat output)', () => {
  const lsof = 'hyperdriv 1 u 12u IPv4 1 0t0 TCP *:8081 (LISTEN)\nhyperdriv 1 u 13u IPv4 1 0t0 TCP 127.0.0.1:8081->127.0.0.1:8500 (ESTABLISHED)\n';
  assert.equal(parseNodePort(lsof, 'h'), 8081);
  const ss = 'State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nLISTEN 0 511 0.0.0.0:8080 0.0.0.0:*\nLISTEN 0 511 [::]:8080 [::]:*\n';
  assert.equal(parseNodePort(ss, 'h'), 8080);
  const netstat = 'tcp        0      0 127.0.0.1:8999          0.0.0.0:*               LISTEN\n';
  assert.equal(parseNodePort(netstat, 'h'), 8999);
});

test('no node port or several are errors that ask for --port', () => {
  assert.throws(() => parseNodePort('sshd 1 u 3u IPv4 1 0t0 TCP *:22 (LISTEN)\n', 'h'), (e: unknown) => e instanceof KitError && /no port in 8080-8999/.test(e.message) && /--port/.test(e.hint ?? ''));
  assert.throws(() => parseNodePort('x TCP *:8080 (LISTEN)\nx TCP *:8081 (LISTEN)\n', 'h'), /8080, 8081/);
});

test('KIT_SSH_COMMAND replaces the ssh program and its leading options', () => {
  assert.deepEqual(sshCommand({}), ['ssh', []]);
  assert.deepEqual(sshCommand({ KIT_SSH_COMMAND: 'ssh -F /tmp/cfg  -q' }), ['ssh', ['-F', '/tmp/cfg', '-q']]);
});
