#!/usr/bin/env node
// A Maelstrom broadcast node in Node.js: gossips new messages to its topology neighbours and
// resends each one to a neighbour until that neighbour acknowledges it, so a message broadcast
// during a partition reaches the other side once the partition heals. A node (re)started asks
// each neighbour for everything it has, again until it answers, so a restarted node catches up
// (what only a crashed node held is lost with it: nothing is written to disk).
'use strict';
const {Node} = require('./maelstrom.js');

const RETRY_MS = 200;
const node = new Node();
const messages = new Set();
let neighbours = [];
const unacked = new Map(); // neighbour -> Set of messages it has not acknowledged
const unsynced = new Set(); // neighbours that have not yet sent us what they have

function gossip(to, batch) {
  node.send(to, {type: 'gossip', messages: [...batch]});
}

// New messages from `from` (a client or a neighbour): keep them, pass them on to everyone else.
function learn(batch, from) {
  const fresh = batch.filter((m) => !messages.has(m));
  fresh.forEach((m) => messages.add(m));
  if (fresh.length === 0) return;
  for (const peer of neighbours) {
    if (peer === from) continue;
    fresh.forEach((m) => unacked.get(peer).add(m));
    gossip(peer, fresh);
  }
}

node.on('topology', (msg) => {
  neighbours = msg.body.topology[node.id] || [];
  neighbours.forEach((peer) => {
    unacked.set(peer, unacked.get(peer) || new Set());
    unsynced.add(peer);
    node.send(peer, {type: 'sync'});
  });
  node.log(`neighbours ${neighbours.join(' ')}`);
  node.reply(msg, {type: 'topology_ok'});
});

node.on('broadcast', (msg) => {
  learn([msg.body.message], msg.src);
  node.reply(msg, {type: 'broadcast_ok'});
});

node.on('read', (msg) => node.reply(msg, {type: 'read_ok', messages: [...messages]}));

node.on('gossip', (msg) => {
  learn(msg.body.messages, msg.src);
  node.send(msg.src, {type: 'gossip_ok', messages: msg.body.messages});
});

node.on('sync', (msg) => node.send(msg.src, {type: 'sync_ok', messages: [...messages]}));

node.on('sync_ok', (msg) => {
  unsynced.delete(msg.src);
  learn(msg.body.messages, msg.src);
});

node.on('gossip_ok', (msg) => {
  const pending = unacked.get(msg.src);
  if (pending) msg.body.messages.forEach((m) => pending.delete(m));
});

setInterval(() => {
  for (const [peer, pending] of unacked) {
    if (pending.size > 0) gossip(peer, pending);
  }
  unsynced.forEach((peer) => node.send(peer, {type: 'sync'}));
}, RETRY_MS);

node.main();
