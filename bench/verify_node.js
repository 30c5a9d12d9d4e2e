#!/usr/bin/env node
// The npm address validators over the verification bench's list, or its
// accuracy cases (issue 5; run by bench/verify_compare.sh):
//   validator       validator.isEmail(address) with its default options
//   email-validator EmailValidator.validate(address)
// Versions are pinned in bench/verify_node/package.json (+ package-lock);
// `npm ci --prefix bench/verify_node` installs them.
//
//   node bench/verify_node.js [--rounds N] LIST   (best of N, default 1)
//   node bench/verify_node.js --accuracy CASES
//
// Lines are split on "\n" only, as verify_bench does; only each validator's
// loop is timed. Output lines match verify_bench's RESULT / ACCURACY /
// MISMATCH lines.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, 'verify_node', 'node_modules');
const isEmail = require(path.join(modules, 'validator', 'lib', 'isEmail.js'))
  .default;
const emailValidator = require(path.join(modules, 'email-validator'));

const VALIDATORS = [
  ['npm-validator', (a) => isEmail(a)],
  ['npm-email-validator', (a) => emailValidator.validate(a)],
];

function unescape(s) {
  return s.replace(/<CR>|<LF>|<TAB>|<NUL>|<(.)\*(\d+)>/g, (m, c, n) => {
    switch (m) {
      case '<CR>': return '\r';
      case '<LF>': return '\n';
      case '<TAB>': return '\t';
      case '<NUL>': return '\0';
      default: return c.repeat(Number(n));
    }
  });
}

function runList(file, rounds) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const n = lines.length;
  for (const [name, fn] of VALIDATORS) {
    let valid = 0;
    let seconds = Infinity;
    for (let r = 0; r < rounds; r++) {
      valid = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        if (fn(lines[i])) valid++;
      }
      seconds = Math.min(seconds,
        Number(process.hrtime.bigint() - start) / 1e9);
    }
    console.log(`RESULT name=${name} n=${n} seconds=${seconds.toFixed(3)} ` +
      `rate=${Math.round(n / seconds)} valid=${valid} invalid=${n - valid}`);
  }
}

function runAccuracy(file) {
  const cases = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line || line.startsWith('#') || !line.includes('\t')) continue;
    const parts = line.split('\t');
    cases.push({
      expected: parts[0], raw: parts[1],
      either: parts.length > 2 && parts[2].startsWith('either'),
    });
  }
  for (const [name, fn] of VALIDATORS) {
    let agree = 0, strictAgree = 0, strictTotal = 0;
    for (const c of cases) {
      const got = fn(unescape(c.raw)) ? 'valid' : 'invalid';
      if (!c.either) strictTotal++;
      if (got === c.expected) {
        agree++;
        if (!c.either) strictAgree++;
      } else {
        console.log(`MISMATCH ${name} expected=${c.expected} got=${got} ` +
          `${c.raw}${c.either ? '  [either]' : ''}`);
      }
    }
    console.log(`ACCURACY name=${name} agree=${agree} total=${cases.length} ` +
      `strict_agree=${strictAgree} strict_total=${strictTotal}`);
  }
}

if (process.argv.length === 4 && process.argv[2] === '--accuracy') {
  runAccuracy(process.argv[3]);
} else if (process.argv.length === 5 && process.argv[2] === '--rounds') {
  runList(process.argv[4], Math.max(1, Number(process.argv[3])));
} else if (process.argv.length === 3) {
  runList(process.argv[2], 1);
} else {
  console.error('usage: verify_node.js [--rounds N] LIST | --accuracy CASES');
  process.exit(2);
}
