// A small Maelstrom node library for the Node.js test nodes (plain Node, no packages), shaped
// like the helpers in Maelstrom's own demos: JSON lines on stdin/stdout, `init` answered here,
// handlers by message type, replies matched to their requests by msg_id.
'use strict';
const readline = require('readline');

class Node {
  constructor() {
    this.id = null;
    this.nodeIds = [];
    this.nextMsgId = 0;
    this.handlers = {};
    this.callbacks = new Map(); // our msg_id -> what to do with its reply
    this.initHooks = [];
  }

  // Handle messages of `type`: fn(msg) with msg = {src, dest, body}.
  on(type, fn) {
    this.handlers[type] = fn;
    return this;
  }

  // Run fn() once init is answered (node id and ids known).
  onInit(fn) {
    this.initHooks.push(fn);
    return this;
  }

  log(...words) {
    process.stderr.write(`${this.id} ${words.join(' ')}\n`);
  }

  send(dest, body) {
    const msgId = ++this.nextMsgId;
    // A pipe write is synchronous on Linux, so lines leave in order and at once.
    process.stdout.write(JSON.stringify({src: this.id, dest, body: {...body, msg_id: msgId}}) + '\n');
    return msgId;
  }

  reply(request, body) {
    return this.send(request.src, {...body, in_reply_to: request.body.msg_id});
  }

  // Send and call onReply(replyMsg) when the answer comes (never, if it does not).
  rpc(dest, body, onReply) {
    const msgId = this.send(dest, body);
    this.callbacks.set(msgId, onReply);
    return msgId;
  }

  main() {
    const lines = readline.createInterface({input: process.stdin, terminal: false});
    lines.on('line', (line) => this.handle(JSON.parse(line)));
    lines.on('close', () => process.exit(0)); // timers would keep a gossiping node alive
  }

  handle(msg) {
    const body = msg.body;
    if (body.in_reply_to !== undefined && this.callbacks.has(body.in_reply_to)) {
      const onReply = this.callbacks.get(body.in_reply_to);
      this.callbacks.delete(body.in_reply_to);
      onReply(msg);
    } else if (body.type === 'init') {
      this.id = body.node_id;
      this.nodeIds = body.node_ids;
      this.log(`initialised, node ${process.version} (pid ${process.pid})`);
      this.initHooks.forEach((fn) => fn());
      this.reply(msg, {type: 'init_ok'});
    } else if (this.handlers[body.type]) {
      this.handlers[body.type](msg);
    } else if (body.msg_id !== undefined) {
      this.reply(msg, {type: 'error', code: 10, text: `not supported: ${body.type}`});
    }
  }
}

module.exports = {Node};
