// Computes numbers of the Fibonacci sequence. API (api/fibonacci:template.os-v0.wit):
//   {"Number": n}            ->  {"Number": fib(n)}
//   {"Numbers": [n, trials]} ->  {"Numbers": [fib(n), trials]}   (computes it `trials` times)
// Try it from a node's terminal: m our@fibonacci:fibonacci:template.os '{"Number": 10}' -a 5
import { awaitMessage, callInit, println, respondJson } from 'kit/process';

/** The n-th Fibonacci number; u64 holds up to fib(93), so that is the largest n accepted. */
function fibonacci(n) {
  if (!Number.isInteger(n) || n < 0 || n > 93) throw new RangeError(`n must be a whole number from 0 to 93, got ${n}`);
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

export const init = callInit(() => {
  for (;;) {
    try {
      const message = awaitMessage();
      if (!message.isRequest()) continue;
      const request = message.json();
      if ('Number' in request) {
        const result = fibonacci(request.Number);
        println(`fibonacci(${request.Number}) = ${result}`);
        respondJson({ Number: result });
      } else if ('Numbers' in request) {
        const [n, trials] = request.Numbers;
        let result = 0n;
        for (let i = 0; i < trials; i++) result = fibonacci(n);
        println(`fibonacci(${n}) = ${result}, computed ${trials} times`);
        respondJson({ Numbers: [result, trials] });
      } else {
        throw new Error(`unknown request ${message.text()}`);
      }
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});
