#!/usr/bin/env node
// A Maelstrom g-counter node in Node.js, state-based: each node counts its own adds, gossips
// every count it knows to every other node, and keeps the largest count it has heard for each
// node (a grow-only CRDT, so lost or repeated gossip is harmless). Its value is the sum.
// Counts are kept per incarnation (node id and pid): a restarted node starts a count of its
// own rather than from zero under a name whose larger old count would hide its new adds.
'use strict';
const {Node} = require('./maelstrom.js');

const GOSSIP_MS = 100;
const node = new Node();
const counts = {}; // "node:pid" -> that incarnation's adds, as far as we know
let me = null;

node.onInit(() => {
  me = `${node.id}:${process.pid}`;
  counts[me] = 0;
});

node.on('add', (msg) => {
  counts[me] += msg.body.delta;
  node.reply(msg, {type: 'add_ok'});
});

node.on('read', (msg) => {
  const value = Object.values(counts).reduce((a, b) => a + b, 0);
  node.reply(msg, {type: 'read_ok', value});
});

node.on('state', (msg) => {
  for (const [id, count] of Object.entries(msg.body.counts)) {
    counts[id] = Math.max(counts[id] || 0, count);
  }
});

setInterval(() => {
  if (me === null) return;
  node.nodeIds.filter((id) => id !== node.id).forEach((id) => node.send(id, {type: 'state', counts}));
}, GOSSIP_MS);

node.main();
