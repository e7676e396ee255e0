// The chat test, run by `kit run-tests` on two fake nodes: send a message from the first node to
// the second, then read both sides' history.
import { assert, assertEqual, processId, requestJson, testPackage } from 'kit/process';

const PROCESS = processId('chat:chat:template.os');

export const init = testPackage('chat-test', ({ our, nodes }) => {
  assert(nodes.length >= 2, 'this test needs two nodes (see test/tests.toml)');
  const their = nodes[1];
  const text = 'hello from the test';

  const sent = requestJson({ node: our.node, process: PROCESS }, { Send: { target: their, message: text } }, 15);
  assertEqual(sent, 'Send', 'answer to Send');

  // The receiving node filed the message under our name, with us as the author...
  const theirs = requestJson({ node: their, process: PROCESS }, { History: our.node }, 15);
  assertEqual(theirs, { History: [{ author: our.node, content: text }] }, 'history on the receiving node');

  // ...and so did we, under theirs.
  const ours = requestJson({ node: our.node, process: PROCESS }, { History: their }, 15);
  assertEqual(ours, { History: [{ author: our.node, content: text }] }, 'history on the sending node');
});
