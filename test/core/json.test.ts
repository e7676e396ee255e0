// src/core/json.ts: JSON that keeps a u64 above 2^53 exact, and is JSON.parse everywhere else.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isI64, isU64, parseJsonExact, stringifyJsonExact } from '../../src/core/json.js';

describe('parseJsonExact', () => {
  it('gives integers outside ±(2^53-1) as bigints, digit for digit, and every other number as JSON.parse does', () => {
    assert.deepEqual(parseJsonExact('{"tx_id": 18446744073709551615, "n": 42, "f": 1.5, "e": 1e3, "neg": -9007199254740993}'), {
      tx_id: 18446744073709551615n,
      n: 42,
      f: 1.5,
      e: 1000,
      neg: -9007199254740993n,
    });
    assert.equal(parseJsonExact('9007199254740991'), 9007199254740991, 'the largest safe integer stays a number');
    assert.equal(parseJsonExact('9007199254740992'), 9007199254740992n);
    assert.equal(parseJsonExact('12345678901234567890.5'), JSON.parse('12345678901234567890.5'), 'a fraction is a number, rounded as JSON.parse rounds');
  });

  it('agrees with JSON.parse on everything else, long digit runs inside strings included', () => {
    for (const text of [
      '{"a":[1,2,{"b":null}],"c":"12345678901234567890","d":true,"e":false}',
      '  [ "\\u00e9\\n\\"", -0, 0.25e-3, {} , [] ]  ',
      '{"__proto__": {"x": 1}, "k": "v", "k": "w"}',
      '"1234567890123456789"',
    ]) {
      const exact = parseJsonExact(`[${text}, 12345678901234567890]`) as unknown[];
      assert.deepEqual(exact[0], JSON.parse(text), text);
    }
    const proto = parseJsonExact('{"__proto__": 1, "n": 12345678901234567890}') as Record<string, unknown>;
    assert.ok(Object.hasOwn(proto, '__proto__'), '"__proto__" is an own key, as JSON.parse makes it');
  });

  it('throws SyntaxError on text that is not JSON, like JSON.parse', () => {
    for (const text of ['', '{', '[1,]', '{"a" 1}', '01', '12345678901234567890 x', '"unterminated 12345678901234567', "'1234567890123456789'", '[1234567890123456789,', '-']) {
      assert.throws(() => parseJsonExact(text), SyntaxError, text);
    }
  });
});

describe('stringifyJsonExact', () => {
  it('writes bigints bare and everything else as JSON.stringify does', () => {
    assert.equal(stringifyJsonExact({ Err: { NoTx: 18446744073709551615n }, list: [1n, 'x', null, undefined] }), '{"Err":{"NoTx":18446744073709551615},"list":[1,"x",null,null]}');
    assert.equal(stringifyJsonExact({ a: 1, b: [true] }), JSON.stringify({ a: 1, b: [true] }));
    assert.equal(stringifyJsonExact(parseJsonExact('{"x":[12345678901234567890,-3.5]}')), '{"x":[12345678901234567890,-3.5]}');
  });
});

describe('isU64 / isI64', () => {
  it('take safe integers and bigints in range', () => {
    assert.ok(isU64(0) && isU64(2 ** 53 - 1) && isU64((1n << 64n) - 1n));
    assert.ok(!isU64(-1) && !isU64(1.5) && !isU64(1n << 64n) && !isU64('5') && !isU64(2 ** 53));
    assert.ok(isI64(-(1n << 63n)) && !isI64(1n << 63n) && isI64(-5));
  });
});
