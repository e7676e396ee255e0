// Every Hypermap rule of the book, against kit's contracts on a real anvil, both ways.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Address,
  decodeEventLog,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  type Hex,
  keccak256,
  stringToBytes,
  stringToHex,
  toHex,
  zeroAddress,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_OWNER,
  accountAbi,
  type Chain,
  type ChainClients,
  CHAIN_ID,
  chainClients,
  EIP1967_IMPL_SLOT,
  ERC6551_REGISTRY,
  HYPERACCOUNT_IMPL,
  HYPERACCOUNT_MINTER,
  HYPERMAP,
  hypermapAbi,
  loadArtifacts,
  MULTICALL3,
  multicallAbi,
  namehash,
  OS_TBA,
  registryAbi,
  startChain,
  ZEROTH_TBA,
} from '../../src/chain/index.js';
import { freePort, rejectsWith } from './helpers.js';

// anvil account #1 plays "someone else".
const OTHER = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9c861dc2e9ee51d4b97d4ac1ff2d0b');
const errorsAbi = hypermapAbi.filter((x) => x.type === 'error');
const tbaAbi = [...accountAbi, ...errorsAbi];

let chain: Chain;
let c: ChainClients;

before(async () => {
  chain = await startChain({ port: await freePort() });
  c = chainClients(chain.url);
});
after(async () => {
  await chain?.stop();
});

async function get(name: string) {
  const [tba, owner, data] = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
  return { tba, owner, data };
}

async function wait(hash: Hex) {
  const r = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  assert.equal(r.status, 'success');
  return r;
}

/** As the owner of `parent`'s TBA, run `data` on `to` through execute (operation 0 = CALL). */
async function exec(parentTba: Address, to: Address, data: Hex, operation = 0, from: Address = ANVIL_OWNER) {
  const hash = await c.wallet.writeContract({
    address: parentTba,
    abi: tbaAbi,
    functionName: 'execute',
    args: [to, 0n, data, operation],
    account: from,
    gas: 3_000_000n,
  });
  return wait(hash);
}

/** Simulate first so a revert surfaces with its decoded error name. */
async function execChecked(parentTba: Address, to: Address, data: Hex, operation = 0, from: Address = ANVIL_OWNER) {
  await c.public.simulateContract({ address: parentTba, abi: tbaAbi, functionName: 'execute', args: [to, 0n, data, operation], account: from });
  return exec(parentTba, to, data, operation, from);
}

const mintData = (label: string, impl: Address = HYPERACCOUNT_IMPL, init: Hex = '0x', who: Address = ANVIL_OWNER) =>
  encodeFunctionData({ abi: hypermapAbi, functionName: 'mint', args: [who, stringToHex(label), init, impl] });
const noteData = (label: string, data: Hex) => encodeFunctionData({ abi: hypermapAbi, functionName: 'note', args: [stringToHex(label), data] });
const factData = (label: string, data: Hex) => encodeFunctionData({ abi: hypermapAbi, functionName: 'fact', args: [stringToHex(label), data] });

/** Mint `label.<parent>` as anvil #0 through the parent's TBA; returns the new entry. */
async function mintUnder(parent: string, label: string, impl: Address = HYPERACCOUNT_IMPL) {
  const p = await get(parent);
  await execChecked(p.tba, HYPERMAP, mintData(label, impl));
  return get(`${label}.${parent}`);
}

/** Where the registry puts `name`'s TBA: its account proxy is Hypermap's CREATE2 of AccountProxy, salted with the namehash. */
async function expectedTba(name: string): Promise<Address> {
  const entry = namehash(name);
  const proxy = getContractAddress({ opcode: 'CREATE2', from: HYPERMAP, salt: entry, bytecode: loadArtifacts().AccountProxy!.bytecode });
  return c.public.readContract({ address: ERC6551_REGISTRY, abi: registryAbi, functionName: 'account', args: [proxy, entry, BigInt(CHAIN_ID), HYPERMAP, BigInt(entry)] });
}

/** The TBA's implementation, as its account proxy keeps it (the TBA's EIP-1967 slot). */
async function implementationOf(tba: Address): Promise<Address> {
  const slot = await c.public.getStorageAt({ address: tba, slot: EIP1967_IMPL_SLOT });
  return getAddress(`0x${(slot ?? '0x').slice(-40)}`);
}

describe('hypermap: setup and hashes', () => {
  test('namehash matches the interop test vectors', () => {
    assert.equal(namehash(''), `0x${'00'.repeat(32)}`);
    assert.equal(namehash('os'), '0xdeeac81ae11b64e7cab86d089c306e5d223552a630f02633ce170d2786ff1bbd');
    assert.equal(namehash('dev'), '0x137d9e4cc0479164d40577620cb3b41b083c6e8dbf58f8523be76d207d6fd8ea');
    assert.equal(namehash('fake.os'), '0xff11905618b5567529c8a467f264d9cba66838343721fe89b8717af3811eea91');
    assert.equal(namehash('~ip.fake.os'), '0x473c22880c33bc76ab085253dca6796e505e44101df429f0333f756017081b62');
  });

  test('os and dev are minted at startup, owned by anvil #0, with TBAs', async () => {
    for (const tld of ['os', 'dev']) {
      const e = await get(tld);
      assert.notEqual(e.tba, zeroAddress, `${tld} has a TBA`);
      assert.equal(e.owner, getAddress(ANVIL_OWNER));
      const owner = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'ownerOf', args: [BigInt(namehash(tld))] });
      assert.equal(owner, getAddress(ANVIL_OWNER));
    }
  });

  test('the zeroth and os accounts are where Hyperdrive and the real kit hard-code them', async () => {
    assert.equal((await get('')).tba, ZEROTH_TBA);
    assert.equal((await get('os')).tba, OS_TBA);
    assert.equal(await implementationOf(OS_TBA), getAddress(HYPERACCOUNT_MINTER), 'anyone may mint under os, as Hyperdrive does');
    assert.equal(await implementationOf(ZEROTH_TBA), getAddress(HYPERACCOUNT_IMPL));
  });

  test('contracts sit at the interop addresses', async () => {
    for (const a of [HYPERMAP, MULTICALL3, HYPERACCOUNT_IMPL, HYPERACCOUNT_MINTER, ERC6551_REGISTRY]) {
      const code = await c.public.getCode({ address: a });
      assert.ok(code && code.length > 2, `code at ${a}`);
    }
  });

  test('event topic0 values are the real contract\'s', () => {
    const topics = Object.fromEntries(
      hypermapAbi.filter((x) => x.type === 'event').map((e) => [e.name, keccak256(stringToBytes(`${e.name}(${e.inputs.map((i) => i.type).join(',')})`))]),
    );
    assert.equal(topics.Mint, '0xb59dae5eda69178326b6517bb1aa33e208bf2ac347e30d3a5daf0ecb6249f7b1');
    assert.equal(topics.Note, '0xe40d9f1ec78dfc3c5a94c3edae28058ba092a8f65ce8a199731840a3d20f82f4');
    assert.equal(topics.Fact, '0x6df41fff09a97e34e341514998993ce9f4542c3fa8358931a96c9fff178c3adb');
    assert.equal(topics.Gene, '0xde0ec2494e561683ac09b109d8c4c4a08b4ddbd4fcd23b609fe107e63176ef5a');
    assert.equal(topics.Zero, '0xa7dcba07b3032d87953767c0eed546a5eb7e52648856b776ba4ad8a1ff1bf3c0');
  });
});

describe('hypermap rule 1: keys use 0-9, a-z, "-" and are at most 63 characters', () => {
  test('allowed labels mint', async () => {
    for (const label of ['abc', 'a-1', '0', 'x'.repeat(63)]) {
      const e = await mintUnder('os', label);
      assert.notEqual(e.tba, zeroAddress, label);
    }
  });
  test('refused labels revert with InvalidLabel', async () => {
    const os = await get('os');
    for (const label of ['', 'Abc', 'a_b', 'a.b', 'a b', 'é', 'y'.repeat(64)]) {
      await rejectsWith(() => execChecked(os.tba, HYPERMAP, mintData(label)), 'InvalidLabel');
    }
  });
  test('data-keys follow the same charset after their prefix', async () => {
    const e = await mintUnder('os', 'charset-data');
    await execChecked(e.tba, HYPERMAP, noteData(`~${'k'.repeat(62)}`, '0x01'));
    for (const label of ['~Key', '~a_b', `~${'k'.repeat(63)}`, '~']) {
      await rejectsWith(() => execChecked(e.tba, HYPERMAP, noteData(label, '0x01')), 'InvalidLabel');
    }
  });
});

describe('hypermap rule 2: a key is a name-key or a data-key', () => {
  test('a name-key cannot carry a data prefix; a note needs "~", a fact needs "!"', async () => {
    const os = await get('os');
    await rejectsWith(() => execChecked(os.tba, HYPERMAP, mintData('~name')), 'InvalidLabel');
    await rejectsWith(() => execChecked(os.tba, HYPERMAP, mintData('!name')), 'InvalidLabel');
    const e = await mintUnder('os', 'kinds');
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, noteData('plain', '0x01')), 'InvalidLabel');
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, noteData('!fact', '0x01')), 'InvalidLabel');
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, factData('~note', '0x01')), 'InvalidLabel');
    await execChecked(e.tba, HYPERMAP, noteData('~note', '0x01'));
    await execChecked(e.tba, HYPERMAP, factData('!fact', '0x02'));
    assert.equal((await get('~note.kinds.os')).data, '0x01');
    assert.equal((await get('!fact.kinds.os')).data, '0x02');
  });
});

describe('hypermap rule 3: every name-key may create sub-entries beneath it', () => {
  test('a name mints children and grandchildren; the name is the dotted path', async () => {
    const parent = await mintUnder('os', 'parent');
    const child = await mintUnder('parent.os', 'child');
    const grandchild = await mintUnder('child.parent.os', 'leaf');
    assert.notEqual(parent.tba, zeroAddress);
    assert.notEqual(child.tba, zeroAddress);
    assert.notEqual(grandchild.tba, zeroAddress);
  });
  test('only an entry\'s TBA may mint; a name cannot be minted twice', async () => {
    await rejectsWith(
      () => c.public.simulateContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'mint', args: [ANVIL_OWNER, stringToHex('direct'), '0x', HYPERACCOUNT_IMPL], account: ANVIL_OWNER }),
      'NotAnEntry',
    );
    await mintUnder('os', 'twice');
    const os = await get('os');
    await rejectsWith(() => execChecked(os.tba, HYPERMAP, mintData('twice')), 'AlreadyExists');
  });
  test('only the owner of a name may mint under it', async () => {
    const e = await mintUnder('os', 'guarded');
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, mintData('intruder'), 0, OTHER.address), 'NotAuthorized');
  });
});

describe('hypermap rule 4: name-keys are ERC-721 tokens with token-bound accounts', () => {
  test('token id is the namehash; the TBA is the registry\'s account of the entry\'s own account proxy, salted with the namehash', async () => {
    const e = await mintUnder('os', 'nft');
    const id = BigInt(namehash('nft.os'));
    assert.equal(await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'ownerOf', args: [id] }), getAddress(ANVIL_OWNER));
    assert.equal(await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'tbaOf', args: [id] }), e.tba);
    assert.equal(e.tba, await expectedTba('nft.os'));
    assert.equal(await implementationOf(e.tba), getAddress(HYPERACCOUNT_IMPL), 'the implementation asked for at mint');
    const [chainId, contract, tokenId] = await c.public.readContract({ address: e.tba, abi: accountAbi, functionName: 'token' });
    assert.deepEqual([chainId, contract, tokenId], [BigInt(CHAIN_ID), getAddress(HYPERMAP), id]);
  });
  test('transferring the token moves control of the TBA', async () => {
    const e = await mintUnder('os', 'movable');
    const id = BigInt(namehash('movable.os'));
    await wait(await c.wallet.writeContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'transferFrom', args: [ANVIL_OWNER, OTHER.address, id] }));
    assert.equal((await get('movable.os')).owner, OTHER.address);
    assert.equal(await c.public.readContract({ address: e.tba, abi: accountAbi, functionName: 'owner' }), OTHER.address);
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, noteData('~x', '0x01')), 'NotAuthorized');
    await c.test.setBalance({ address: OTHER.address, value: 10n ** 18n });
    await c.test.impersonateAccount({ address: OTHER.address });
    await execChecked(e.tba, HYPERMAP, noteData('~x', '0x01'), 0, OTHER.address);
    await c.test.stopImpersonatingAccount({ address: OTHER.address });
    // Someone who is neither owner nor approved cannot take it.
    await rejectsWith(
      () => c.public.simulateContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'transferFrom', args: [OTHER.address, ANVIL_OWNER, id], account: ANVIL_OWNER }),
      'NotTokenOwner',
    );
  });
});

describe('hypermap rule 5: the TBA implementation is chosen at creation', () => {
  test('a name minted with the minter implementation lets anyone mint under it; the plain account does not', async () => {
    const open = await mintUnder('os', 'open', HYPERACCOUNT_MINTER);
    const closed = await mintUnder('os', 'closed', HYPERACCOUNT_IMPL);
    await c.public.simulateContract({ address: open.tba, abi: tbaAbi, functionName: 'mint', args: [OTHER.address, stringToHex('sub'), '0x', HYPERACCOUNT_IMPL], account: OTHER.address });
    await rejectsWith(
      () => c.public.simulateContract({ address: closed.tba, abi: tbaAbi, functionName: 'mint', args: [OTHER.address, stringToHex('sub'), '0x', HYPERACCOUNT_IMPL], account: OTHER.address }),
      'revert',
    );
  });
});

describe('hypermap rule 6: genes are inherited', () => {
  test('with a gene set, children get the gene whatever implementation they ask for; set once only', async () => {
    const parent = await mintUnder('os', 'geneparent');
    const plain = await mintUnder('geneparent.os', 'before');
    assert.equal(plain.tba, await expectedTba('before.geneparent.os'));
    assert.equal(await implementationOf(plain.tba), getAddress(HYPERACCOUNT_IMPL));
    const r = await execChecked(parent.tba, HYPERMAP, encodeFunctionData({ abi: hypermapAbi, functionName: 'gene', args: [HYPERACCOUNT_MINTER] }));
    const gene = r.logs.map((l) => { try { return decodeEventLog({ abi: hypermapAbi, ...l }); } catch { return undefined; } }).find((x) => x?.eventName === 'Gene');
    assert.ok(gene, 'Gene event emitted');
    const child = await mintUnder('geneparent.os', 'after', HYPERACCOUNT_IMPL);
    assert.equal(child.tba, await expectedTba('after.geneparent.os'));
    assert.equal(await implementationOf(child.tba), getAddress(HYPERACCOUNT_MINTER), 'the gene, not the implementation asked for');
    // Inherited further down.
    const grand = await mintUnder('after.geneparent.os', 'deeper', HYPERACCOUNT_IMPL);
    assert.equal(await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'geneOf', args: [namehash('deeper.after.geneparent.os')] }), getAddress(HYPERACCOUNT_MINTER));
    assert.notEqual(grand.tba, zeroAddress);
    await rejectsWith(() => execChecked(parent.tba, HYPERMAP, encodeFunctionData({ abi: hypermapAbi, functionName: 'gene', args: [HYPERACCOUNT_IMPL] })), 'GeneAlreadySet');
  });
});

describe('hypermap rules 7-8: data-keys under a name; notes mutable, facts immutable', () => {
  test('a note can be rewritten; get returns the latest and every write emits Note', async () => {
    const e = await mintUnder('os', 'notes');
    const r1 = await execChecked(e.tba, HYPERMAP, noteData('~status', stringToHex('one')));
    await execChecked(e.tba, HYPERMAP, noteData('~status', stringToHex('two')));
    assert.equal((await get('~status.notes.os')).data, stringToHex('two'));
    const ev = r1.logs.map((l) => { try { return decodeEventLog({ abi: hypermapAbi, ...l }); } catch { return undefined; } }).find((x) => x?.eventName === 'Note');
    assert.ok(ev && ev.eventName === 'Note');
    assert.equal(ev.args.parenthash, namehash('notes.os'));
    assert.equal(ev.args.notehash, namehash('~status.notes.os'));
    assert.equal(ev.args.label, stringToHex('~status'));
    assert.equal(ev.args.data, stringToHex('one'));
  });
  test('a fact is written once; a second write reverts with FactImmutable', async () => {
    const e = await mintUnder('os', 'facts');
    await execChecked(e.tba, HYPERMAP, factData('!born', stringToHex('2026')));
    await rejectsWith(() => execChecked(e.tba, HYPERMAP, factData('!born', stringToHex('2027'))), 'FactImmutable');
    assert.equal((await get('!born.facts.os')).data, stringToHex('2026'));
  });
  test('only a name-key\'s TBA may write data-keys, and only beneath itself', async () => {
    await rejectsWith(
      () => c.public.simulateContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'note', args: [stringToHex('~x'), '0x01'], account: ANVIL_OWNER }),
      'NotAnEntry',
    );
  });
  test('execute with DELEGATECALL into Multicall3 writes several notes as the TBA (the fake-node registration shape)', async () => {
    const e = await mintUnder('os', 'multi');
    const calls = [
      { target: HYPERMAP, callData: noteData('~ip', '0x7f000001') },
      { target: HYPERMAP, callData: noteData('~ws-port', toHex(9000, { size: 2 })) },
      { target: HYPERMAP, callData: noteData('~net-key', `0x${'11'.repeat(32)}`) },
    ] as const;
    await execChecked(e.tba, MULTICALL3, encodeFunctionData({ abi: multicallAbi, functionName: 'aggregate', args: [calls] }), 1);
    assert.equal((await get('~ip.multi.os')).data, '0x7f000001');
    assert.equal((await get('~ws-port.multi.os')).data, '0x2328');
    assert.equal((await get('~net-key.multi.os')).data, `0x${'11'.repeat(32)}`);
    await rejectsWith(() => execChecked(e.tba, MULTICALL3, '0x', 2), 'InvalidOperation');
  });
});

describe('hypermap: the real tools\' transactions work unchanged', () => {
  test('fakenet\'s mint_local calldata (interop Appendix B) is what our ABI encodes, and it registers fake.os', async () => {
    const note = (l: string, d: Hex) => ({ target: HYPERMAP, callData: noteData(l, d) });
    const calls = [note('~ip', '0x7f000001'), note('~ws-port', '0x2328'), note('~net-key', `0x${'11'.repeat(32)}`)];
    const init = encodeFunctionData({
      abi: accountAbi,
      functionName: 'execute',
      args: [MULTICALL3, 0n, encodeFunctionData({ abi: multicallAbi, functionName: 'aggregate', args: [calls] }), 1],
    });
    const data = encodeFunctionData({ abi: accountAbi, functionName: 'mint', args: [ANVIL_OWNER, stringToHex('fake'), init, HYPERACCOUNT_IMPL] });
    assert.equal(data.slice(0, 10), '0x094cefed');
    assert.equal((data.length - 2) / 2, 1572, 'Appendix B: 1572 bytes of input');
    assert.ok(data.includes('7e6e65742d6b6579'), '~net-key label inside');
    // fakenet.rs sends it to the hard-coded `os` account, not to what Hypermap says.
    const hash = await c.wallet.sendTransaction({ to: OS_TBA, data, gas: 1_200_000n });
    await wait(hash);
    assert.equal((await get('fake.os')).owner, getAddress(ANVIL_OWNER));
    assert.equal((await get('~ws-port.fake.os')).data, '0x2328');
    assert.equal((await get('~ip.fake.os')).data, '0x7f000001');
  });
});
