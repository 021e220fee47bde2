#!/usr/bin/env node
// A linearizable Maelstrom lin-kv node in Node.js, as lin_kv.py: the first node holds the map,
// the others forward every request to it and relay its answer, so each operation takes effect
// at one place, in one order. Error codes as Maelstrom documents them: 20 key-does-not-exist,
// 22 precondition-failed.
'use strict';
const {Node} = require('./maelstrom.js');

const node = new Node();
const store = new Map(); // at the leader only
let leader = null;

node.onInit(() => { leader = node.nodeIds[0]; });

function apply(req) {
  const key = JSON.stringify(req.key); // keys compare by value, as JSON
  if (req.type === 'read') {
    return store.has(key) ? {type: 'read_ok', value: store.get(key)} : {type: 'error', code: 20, text: 'not found'};
  }
  if (req.type === 'write') {
    store.set(key, req.value);
    return {type: 'write_ok'};
  }
  if (!store.has(key)) return {type: 'error', code: 20, text: 'not found'};
  if (JSON.stringify(store.get(key)) !== JSON.stringify(req.from)) {
    return {type: 'error', code: 22, text: `expected ${JSON.stringify(req.from)}, had ${JSON.stringify(store.get(key))}`};
  }
  store.set(key, req.to);
  return {type: 'cas_ok'};
}

function serve(msg) {
  if (node.id === leader) {
    node.reply(msg, apply(msg.body));
  } else {
    node.rpc(leader, {type: 'fwd', req: msg.body}, (answer) => node.reply(msg, answer.body.resp));
  }
}

['read', 'write', 'cas'].forEach((type) => node.on(type, serve));
node.on('fwd', (msg) => node.reply(msg, {type: 'fwd_ok', resp: apply(msg.body.req)}));

node.main();
