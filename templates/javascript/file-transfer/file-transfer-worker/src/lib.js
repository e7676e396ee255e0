// A worker moves one file between two nodes, then exits. Started by startDownload() with a
// Download job: on the requesting node it asks the other node for the file and writes the chunks
// it gets; on the providing node it sends the file in chunks of CHUNK_SIZE bytes.
import {
  addressFromWitJson,
  addressToWitJson,
  awaitMessage,
  callInit,
  println,
  Request,
  respondJson,
  vfs,
} from 'kit/process';
import { CHUNK_SIZE, filesDrive } from '../../file-transfer-worker-api/src/index';

/** Send the file to the requesting worker: its size first, then the chunks in order. */
function provide(drive, job) {
  const target = addressFromWitJson(job.target);
  const bytes = vfs.readFile(`${drive}/${job.name}`);
  Request.to(target).json({ Size: bytes.length }).send();
  for (let offset = 0; offset < bytes.length; offset += CHUNK_SIZE) {
    const chunk = bytes.subarray(offset, Math.min(offset + CHUNK_SIZE, bytes.length));
    Request.to(target)
      .json({ Chunk: { name: job.name, offset, length: chunk.length } })
      .blob({ bytes: chunk, mime: undefined })
      .send();
  }
}

/** Receive the file: returns when all of it has arrived or the transfer failed. */
function receive(our, parent, drive, job) {
  const path = `${drive}/${job.name}`;
  const file = vfs.createFile(path); // a fresh, empty copy
  const source = addressFromWitJson(job.target);
  const ask = { Download: { name: job.name, target: addressToWitJson(our), is_requestor: false } };
  Request.to(source).json(ask).expectsResponse(5).send();

  /** @type {number | undefined} */
  let size;
  let received = 0;
  for (;;) {
    let message;
    try {
      message = awaitMessage();
    } catch (e) {
      file.remove();
      throw e;
    }
    if (message.isResponse()) {
      const answer = message.json();
      if (typeof answer === 'object' && 'Download' in answer && 'Err' in answer.Download) {
        file.remove();
        throw new Error(`${source.node} refused: ${answer.Download.Err}`);
      }
      continue;
    }
    const request = message.json();
    if ('Size' in request) {
      size = request.Size;
    } else if ('Chunk' in request) {
      // One sender, one connection: chunks arrive in order, so each goes at the end.
      const bytes = message.blob()?.bytes ?? new Uint8Array(0);
      file.append(bytes);
      received += bytes.length;
    }
    if (size !== undefined) {
      const progress = size === 0 ? 100 : Math.floor((received / size) * 100);
      Request.to(parent)
        .json({ Progress: { name: job.name, progress } })
        .send();
      if (received >= size) return;
    }
  }
}

export const init = callInit((our) => {
  const drive = filesDrive(our);
  // The first message is the job, from the process that started us.
  const first = awaitMessage();
  const job = first.json();
  if (!first.isRequest() || typeof job !== 'object' || job === null || !('Download' in job)) {
    println(`worker: expected a Download job, got ${first.text()}`);
    return;
  }
  respondJson({ Download: { Ok: null } });
  try {
    if (job.Download.is_requestor) receive(our, first.source, drive, job.Download);
    else provide(drive, job.Download);
  } catch (e) {
    println(`worker: ${job.Download.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
});
