#!/usr/bin/env node
// A Maelstrom echo node in Node.js.
'use strict';
const {Node} = require('./maelstrom.js');

const node = new Node();
node.on('echo', (msg) => node.reply(msg, {type: 'echo_ok', echo: msg.body.echo}));
node.main();
