// tests.toml (interop §7.2, book: `kit run-tests`): found, parsed and checked. Every required key
// of the current kit must be there with its type (`always_print_node_output`, missing in
// Kinode-era files, is taken as false with a note). Keys kit does not know are ignored, as the
// real kit's serde types ignore them, with a note naming each and its line, so a typo is seen.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { KitError } from '../cli/errors.js';

export type Runtime = { FetchVersion: string } | { RepoPath: string };

export interface NodeConfig {
  port: number;
  /** Absolute home folder. */
  home: string;
  /** As written (no `.os` appended yet). */
  fake_node_name: string;
  password?: string;
  rpc?: string;
  runtime_verbosity: number;
}

export interface SetupPackage {
  /** Absolute package folder. */
  path: string;
  run: boolean;
}

export interface TestConfig {
  dependency_package_paths: string[];
  setup_packages: SetupPackage[];
  setup_scripts: string[];
  /** As written in the file (the tester is told these names' basenames). */
  test_package_paths: string[];
  test_scripts: string[];
  timeout_secs: number;
  fakechain_router: number;
  hyperapp: boolean;
  features: string[];
  nodes: NodeConfig[];
}

export interface TestsConfig {
  /** The tests.toml file (absolute). */
  file: string;
  /** Its folder: relative paths in the file are relative to it. */
  testDir: string;
  runtime: Runtime;
  runtime_build_release: boolean;
  persist_home: boolean;
  always_print_node_output: boolean;
  tests: TestConfig[];
  /** Keys accepted for compatibility but not used, and missing keys given a default: one note each. */
  notes: string[];
}

/** The file is missing, unparsable or not what kit expects; the message names the key and line. */
export class TestsConfigError extends KitError {
  override name = 'TestsConfigError';
}

/**
 * PATH as the real kit resolves it: a file is the config; a folder holding tests.toml or
 * test/tests.toml gives that file. PATH defaults to the working folder.
 */
export function locateConfig(path: string | undefined, cwd = process.cwd()): string {
  const p = resolve(cwd, path ?? '.');
  if (!existsSync(p)) {
    throw new TestsConfigError(`Configuration path does not exist: ${p}`, {
      hint: 'give a tests.toml file, or a folder holding tests.toml or test/tests.toml: kit run-tests [PATH]',
    });
  }
  if (statSync(p).isFile()) return realpathSync(p);
  for (const candidate of [join(p, 'tests.toml'), join(p, 'test', 'tests.toml')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return realpathSync(candidate);
  }
  throw new TestsConfigError(`Could not find tests.toml within ${p} (looked for ${join(p, 'tests.toml')} and ${join(p, 'test', 'tests.toml')})`, {
    hint: 'run kit run-tests in a package folder made by `kit new` (it has test/tests.toml), or pass the file',
  });
}

export function loadConfig(file: string): TestsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TestsConfigError(`could not read ${file}: ${(e as Error).message}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): TestsConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new TestsConfigError(`${file}:${e.line}:${e.column}: not valid TOML: ${first}`, { details: sourceLine(text, e.line) });
    }
    throw new TestsConfigError(`${file}: not valid TOML: ${(e as Error).message}`);
  }
  const testDir = dirname(file);
  const where = new Locator(text, file);
  const notes: string[] = [];
  const ignored: string[] = [];

  const top = new Checker(doc, '', where, 0);
  top.only(['runtime', 'runtime_build_release', 'persist_home', 'always_print_node_output', 'tests'], ignored);

  const rt = top.table('runtime');
  const rtKeys = Object.keys(rt.value);
  if (rtKeys.length !== 1 || !['FetchVersion', 'RepoPath'].includes(rtKeys[0])) {
    throw where.error('runtime', 0, 'must be { FetchVersion = "latest" } or { RepoPath = "path/to/hyperdrive" }');
  }
  const runtime: Runtime =
    rtKeys[0] === 'FetchVersion' ? { FetchVersion: rt.string('FetchVersion') } : { RepoPath: expandPath(rt.string('RepoPath'), testDir) };

  // Top-level keys first, in the file's order, so the first error is the first wrong line.
  const persistHome = top.bool('persist_home');
  const runtimeBuildRelease = top.bool('runtime_build_release');
  let always = false;
  if (doc.always_print_node_output === undefined) {
    notes.push('always_print_node_output is missing (a Kinode-era tests.toml): taken as false');
  } else always = top.bool('always_print_node_output');

  const testsRaw = doc.tests;
  if (!Array.isArray(testsRaw) || testsRaw.length === 0) {
    throw where.error('tests', 0, testsRaw === undefined ? 'is missing: add at least one [[tests]] table' : 'must be a non-empty array of [[tests]] tables');
  }
  const tests = testsRaw.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw where.error('tests', 0, `[${i}] must be a table`);
    const t = new Checker(raw as Record<string, unknown>, `tests[${i}].`, where, i + 1);
    t.only(
      [
        'dependency_package_paths',
        'setup_packages',
        'setup_scripts',
        'test_package_paths',
        'test_scripts',
        'timeout_secs',
        'fakechain_router',
        'hyperapp',
        'features',
        'nodes',
      ],
      ignored,
    );
    const nodesRaw = t.array('nodes');
    if (nodesRaw.length === 0) throw where.error(`tests[${i}].nodes`, i + 1, 'needs at least one [[tests.nodes]] (the first is the master)');
    const nodes = nodesRaw.map((n, j) => {
      if (!n || typeof n !== 'object' || Array.isArray(n)) throw where.error(`tests[${i}].nodes`, i + 1, `[${j}] must be a table`);
      const c = new Checker(n as Record<string, unknown>, `tests[${i}].nodes[${j}].`, where, i + 1);
      c.only(['port', 'home', 'fake_node_name', 'password', 'rpc', 'runtime_verbosity'], ignored);
      return {
        port: c.int('port', 1, 65535),
        home: expandPath(c.string('home'), testDir),
        fake_node_name: c.string('fake_node_name'),
        password: c.optString('password'),
        rpc: c.optString('rpc'),
        runtime_verbosity: c.optInt('runtime_verbosity', 0, 255) ?? 0,
      };
    });
    const setups = t.array('setup_packages').map((s, j) => {
      if (!s || typeof s !== 'object' || Array.isArray(s))
        throw where.error(`tests[${i}].setup_packages`, i + 1, `[${j}] must be { path = "..", run = true }`);
      const c = new Checker(s as Record<string, unknown>, `tests[${i}].setup_packages[${j}].`, where, i + 1);
      c.only(['path', 'run'], ignored);
      return { path: expandPath(c.string('path'), testDir), run: c.bool('run') };
    });
    return {
      dependency_package_paths: t.strings('dependency_package_paths').map((p) => expandPath(p, testDir)),
      setup_packages: setups,
      setup_scripts: t.strings('setup_scripts'),
      test_package_paths: t.strings('test_package_paths'),
      test_scripts: t.strings('test_scripts'),
      timeout_secs: t.int('timeout_secs', 0, Number.MAX_SAFE_INTEGER),
      fakechain_router: t.int('fakechain_router', 1, 65535),
      hyperapp: raw.hyperapp === undefined ? false : t.bool('hyperapp'),
      features: raw.features === undefined ? [] : t.strings('features'),
      nodes,
    };
  });
  for (const key of ignored) notes.push(`ignored ${key}: not a key of the current kit's tests.toml (the real kit ignores it too)`);
  return {
    file,
    testDir,
    runtime,
    runtime_build_release: runtimeBuildRelease,
    persist_home: persistHome,
    always_print_node_output: always,
    tests,
    notes,
  };
}

/** `~/x` from the home folder; anything else relative to the tests.toml folder. */
export function expandPath(p: string, testDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return resolve(testDir, p);
}

/** The name a node boots with: the real kit appends `.os` to a name without a dot. */
export function nodeName(n: NodeConfig): string {
  return n.fake_node_name.includes('.') ? n.fake_node_name : `${n.fake_node_name}.os`;
}

/** The tester's name for a test package: the basename of its path as written. */
export function testName(path: string): string {
  return basename(path.replace(/[/\\]+$/, ''));
}

function sourceLine(text: string, line: number): string | undefined {
  const l = text.split('\n')[line - 1];
  return l === undefined ? undefined : `${line} | ${l}`;
}

/** Finds the line a key is written on, within the n-th [[tests]] table (0 = top level). */
class Locator {
  private readonly lines: string[];
  constructor(
    text: string,
    readonly file: string,
  ) {
    this.lines = text.split('\n');
  }

  line(key: string, section: number): number | undefined {
    const leaf = key.split('.').pop()?.replace(/\[\d+\]$/, '') ?? key;
    let start = 0;
    let end = this.lines.length;
    const testStarts = this.lines.map((l, i) => (/^\s*\[\[\s*tests\s*\]\]/.test(l) ? i : -1)).filter((i) => i >= 0);
    if (section > 0 && testStarts[section - 1] !== undefined) {
      start = testStarts[section - 1];
      end = testStarts[section] ?? this.lines.length;
    } else if (section === 0) {
      end = testStarts[0] ?? this.lines.length;
    }
    // Inside the j-th [[tests.nodes]] of that test, when the key is a node's.
    const nested = /\.nodes\[(\d+)\]\./.exec(key);
    if (nested) {
      const heads = [];
      for (let i = start; i < end; i++) if (/^\s*\[\[\s*tests\.nodes\s*\]\]/.test(this.lines[i])) heads.push(i);
      const j = Number(nested[1]);
      if (heads[j] !== undefined) {
        start = heads[j];
        end = heads[j + 1] ?? end;
      }
    }
    const re = new RegExp(`(^|[\\s{,])${leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
    for (let i = start; i < end; i++) if (re.test(this.lines[i])) return i + 1;
    return undefined;
  }

  error(key: string, section: number, what: string): TestsConfigError {
    const line = this.line(key, section);
    return new TestsConfigError(`${this.file}${line ? `:${line}` : ''}: \`${key}\` ${what}`, {
      details: line ? sourceLine(this.lines.join('\n'), line) : undefined,
    });
  }
}

/** Type checks for one table; errors name the full key (`tests[0].timeout_secs`) and its line. */
class Checker {
  constructor(
    readonly value: Record<string, unknown>,
    private readonly prefix: string,
    private readonly where: Locator,
    private readonly section: number,
  ) {}

  private fail(key: string, what: string): never {
    throw this.where.error(this.prefix + key, this.section, what);
  }

  private need(key: string, type: string): unknown {
    const v = this.value[key];
    if (v === undefined) this.fail(key, `is missing (${type} required)`);
    return v;
  }

  /** Unknown keys are noted (`tests[0].foo` at line N) and ignored. */
  only(known: string[], ignored: string[]): void {
    for (const k of Object.keys(this.value)) {
      if (known.includes(k)) continue;
      const line = this.where.line(this.prefix + k, this.section);
      ignored.push(`${this.prefix}${k}${line ? ` (line ${line})` : ''}`);
    }
  }

  table(key: string): Checker {
    const v = this.need(key, 'a table');
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be a table, not ${describe(v)}`);
    return new Checker(v as Record<string, unknown>, `${this.prefix}${key}.`, this.where, this.section);
  }

  string(key: string): string {
    const v = this.need(key, 'a string');
    if (typeof v !== 'string') this.fail(key, `must be a string, not ${describe(v)}`);
    return v;
  }

  optString(key: string): string | undefined {
    return this.value[key] === undefined ? undefined : this.string(key);
  }

  bool(key: string): boolean {
    const v = this.need(key, 'true or false');
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, not ${describe(v)}`);
    return v;
  }

  int(key: string, min: number, max: number): number {
    const v = this.need(key, 'an integer');
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) this.fail(key, `must be an integer, not ${describe(v)}`);
    if (n < min || n > max) this.fail(key, `must be between ${min} and ${max}, not ${n}`);
    return n;
  }

  optInt(key: string, min: number, max: number): number | undefined {
    return this.value[key] === undefined ? undefined : this.int(key, min, max);
  }

  array(key: string): unknown[] {
    const v = this.need(key, 'an array');
    if (!Array.isArray(v)) this.fail(key, `must be an array, not ${describe(v)}`);
    return v;
  }

  strings(key: string): string[] {
    const v = this.array(key);
    if (!v.every((s) => typeof s === 'string')) this.fail(key, 'must be an array of strings');
    return v as string[];
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a table';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
