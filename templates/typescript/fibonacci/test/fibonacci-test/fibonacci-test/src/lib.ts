// The fibonacci test: known values, single and repeated, and a u64 too big for a JS number.
import { assertEqual, processId, Request, requestJson, testPackage } from 'kit/process';

const PROCESS = processId('fibonacci:fibonacci:template.os');

const KNOWN: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [2, 1],
  [5, 5],
  [10, 55],
  [20, 6_765],
  [30, 832_040],
  [47, 2_971_215_073],
];

export const init = testPackage('fibonacci-test', ({ our }) => {
  const target = { node: our.node, process: PROCESS };
  for (const [n, expected] of KNOWN) {
    assertEqual(requestJson(target, { Number: n }, 15), { Number: expected }, `Number ${n}`);
    assertEqual(requestJson(target, { Numbers: [n, 5] }, 15), { Numbers: [expected, 5] }, `Numbers [${n}, 5]`);
  }
  // fib(93) is the largest that fits a u64; the JSON must carry it exactly.
  const big = Request.to(target).json({ Number: 93 }).sendAndAwaitResponse(15).text();
  assertEqual(big, '{"Number":12200160415121876738}', 'Number 93');
});
