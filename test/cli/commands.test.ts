// Every command's aliases, args and flags (names, short names, defaults) are part of kit's public
// interface: scripts and CI jobs depend on them. This snapshot fails when any of them changes.
// If the change is intended: UPDATE_SNAPSHOTS=1 node --test dist/test/cli/commands.test.js

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Config } from '@oclif/core';
import { ROOT } from './helpers/cli.js';

const SNAPSHOT = join(ROOT, 'test', 'cli', '__snapshots__', 'commands.json');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function value(v: unknown): Json {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  return v as Json;
}

async function describeCommands(): Promise<Record<string, Json>> {
  const config = await Config.load({ root: ROOT });
  const out: Record<string, Json> = {};
  const commands = config.commands.filter((c) => c.pluginName === config.name && !c.aliases.includes(c.id));
  for (const c of commands.sort((a, b) => a.id.localeCompare(b.id))) {
    const flags: Record<string, Json> = {};
    for (const [name, f] of Object.entries(c.flags).sort(([a], [b]) => a.localeCompare(b))) {
      flags[name] = {
        char: value(f.char),
        type: f.type,
        default: value(f.default),
        required: Boolean(f.required),
        multiple: f.type === 'option' ? Boolean(f.multiple) : false,
        options: value(f.type === 'option' ? f.options : undefined),
      };
    }
    const args: Record<string, Json> = {};
    for (const [name, a] of Object.entries(c.args)) {
      args[name] = { required: Boolean(a.required), default: value(a.default), options: value(a.options) };
    }
    out[c.id] = { aliases: [...c.aliases].sort(), strict: c.strict !== false, args, flags };
  }
  return out;
}

test('command interface matches the snapshot', async () => {
  const actual = await describeCommands();
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  assert.ok(existsSync(SNAPSHOT), `no snapshot at ${SNAPSHOT}: create it with UPDATE_SNAPSHOTS=1`);
  const expected = JSON.parse(readFileSync(SNAPSHOT, 'utf8'));
  assert.deepEqual(
    actual,
    expected,
    'a command’s aliases, args or flags changed. If that is intended, run: UPDATE_SNAPSHOTS=1 node --test dist/test/cli/commands.test.js',
  );
});

test('the book’s commands exist under their names and short aliases', async () => {
  const actual = await describeCommands();
  // new, build and build-start-package belong to other parts of kit and are checked once they exist.
  const book: Record<string, string[]> = {
    'boot-fake-node': ['f'],
    'boot-real-node': ['e'],
    chain: ['c'],
    connect: [],
    'dev-ui': ['d'],
    'inject-message': ['i'],
    publish: ['p'],
    'remove-package': ['r'],
    'reset-cache': [],
    'run-tests': ['t'],
    setup: [],
    'start-package': ['s'],
    update: [],
    'view-api': ['v'],
  };
  const optional: Record<string, string[]> = { new: ['n'], build: ['b'], 'build-start-package': ['bs'] };
  for (const [id, aliases] of Object.entries({ ...book, ...optional })) {
    const c = actual[id] as { aliases: string[] } | undefined;
    if (!c && id in optional) continue;
    assert.ok(c, `kit ${id} is missing`);
    assert.deepEqual(c.aliases, aliases, `aliases of kit ${id}`);
  }
});

test('boot-fake-node keeps the book’s flags and defaults', async () => {
  const flags = ((await describeCommands())['boot-fake-node'] as { flags: Record<string, { char: string | null; default: Json }> }).flags;
  const expected: Record<string, [string | null, Json]> = {
    'runtime-path': ['r', null],
    version: ['v', 'latest'],
    port: ['p', 8080],
    home: ['o', '/tmp/hyperware-fake-node'],
    'fake-node-name': ['f', 'fake.dev'],
    'fakechain-port': ['c', 8545],
    rpc: [null, null],
    persist: [null, null],
    password: [null, 'secret'],
    release: [null, null],
    verbosity: [null, 0],
    detached: [null, null],
  };
  for (const [name, [char, def]] of Object.entries(expected)) {
    assert.ok(flags[name], `--${name} is missing`);
    assert.equal(flags[name].char, char, `short name of --${name}`);
    assert.deepEqual(flags[name].default === false ? null : flags[name].default, def, `default of --${name}`);
  }
});
