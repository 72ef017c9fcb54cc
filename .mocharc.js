// Like .mocharc.json, but `npx mocha <file.spec.js>` runs only the files named.
'use strict';
const base = require('./.mocharc.json');
const named = process.argv.slice(2).some((a) => a.endsWith('.spec.js'));
module.exports = named ? { ...base, spec: [] } : base;
