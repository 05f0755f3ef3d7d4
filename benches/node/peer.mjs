// The JavaScript peer of provider-forge's benchmarks: parse YAML files with js-yaml and
// validate the documents with Ajv against a JSON Schema, as Nango's own toolchain validates its
// providers.yaml (scripts/validation/providers/validate.ts: js-yaml `load`, then Ajv on the
// whole object). Generic on purpose: any schema, any files, so several benchmarks reuse it.
//
// Usage:
//   node peer.mjs --schema SCHEMA.json [--each-entry] [--only KEYS.txt] [--repeat N] FILE...
//
//   --schema FILE   JSON Schema. Draft 2020-12 schemas ("$schema" ending in 2020-12/schema) are
//                   compiled with Ajv2020, every other draft with Ajv's default class (draft-07,
//                   which Nango's schema.json is). Options as Nango's: allErrors, discriminator.
//   --each-entry    validate each top-level entry of each document on its own, instead of the
//                   whole document (a schema for one provider, many providers per file).
//   --only FILE     with a mapping document: keep only the top-level keys listed in FILE (one per
//                   line) before validating, so both sides of a comparison see the same entries.
//   --repeat N      run the whole job N times (default 5) and report every run and the median.
//
// Prints one JSON object on stdout:
//   {"files", "documents", "validated", "errors", "runs": [{"parse_ms", "validate_ms", "total_ms"}],
//    "median": {"parse_ms", "validate_ms", "total_ms"}, "compile_ms", "node", "ajv", "js_yaml"}
// Exit codes: 0 every document valid, 1 some document invalid, 2 usage or I/O error.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import yaml from 'js-yaml';

const require = createRequire(import.meta.url);

function usage(message) {
    process.stderr.write(`peer.mjs: ${message}\n`);
    process.stderr.write('usage: node peer.mjs --schema SCHEMA.json [--each-entry] [--only KEYS.txt] [--repeat N] FILE...\n');
    process.exit(2);
}

function parseArgs(argv) {
    const args = { schema: null, eachEntry: false, only: null, repeat: 5, files: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--schema') args.schema = value();
        else if (arg === '--each-entry') args.eachEntry = true;
        else if (arg === '--only') args.only = value();
        else if (arg === '--repeat') {
            args.repeat = Number.parseInt(value(), 10);
            if (!(args.repeat > 0)) usage('--repeat needs a positive number');
        } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
        else args.files.push(arg);
    }
    if (!args.schema) usage('--schema is required');
    if (args.files.length === 0) usage('no YAML files given');
    return args;
}

function read(path) {
    try {
        return fs.readFileSync(path, 'utf8');
    } catch (error) {
        usage(`cannot read ${path}: ${error.message}`);
    }
}

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const args = parseArgs(process.argv.slice(2));
const schema = JSON.parse(read(args.schema));
const only = args.only ? new Set(read(args.only).split('\n').map((line) => line.trim()).filter(Boolean)) : null;
const texts = args.files.map(read);

const compileStart = performance.now();
const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
const AjvClass = is2020 ? Ajv2020 : Ajv;
const ajv = new AjvClass({ allErrors: true, discriminator: true, strict: false });
const validate = ajv.compile(schema);
const compileMs = performance.now() - compileStart;

let documents = 0;
let validated = 0;
let errors = 0;
const runs = [];
for (let run = 0; run < args.repeat; run++) {
    documents = 0;
    validated = 0;
    errors = 0;
    const parseStart = performance.now();
    const parsed = texts.map((text) => yaml.load(text));
    const parseMs = performance.now() - parseStart;
    const validateStart = performance.now();
    for (let document of parsed) {
        documents++;
        if (only && document && typeof document === 'object') {
            document = Object.fromEntries(Object.entries(document).filter(([key]) => only.has(key)));
        }
        const targets = args.eachEntry && document && typeof document === 'object' ? Object.values(document) : [document];
        for (const target of targets) {
            validated++;
            if (!validate(target)) errors++;
        }
    }
    const validateMs = performance.now() - validateStart;
    runs.push({ parse_ms: parseMs, validate_ms: validateMs, total_ms: parseMs + validateMs });
}

const result = {
    files: texts.length,
    documents,
    validated,
    errors,
    compile_ms: compileMs,
    runs,
    median: {
        parse_ms: median(runs.map((r) => r.parse_ms)),
        validate_ms: median(runs.map((r) => r.validate_ms)),
        total_ms: median(runs.map((r) => r.total_ms))
    },
    node: process.version,
    ajv: require('ajv/package.json').version,
    js_yaml: require('js-yaml/package.json').version,
    ajv_class: is2020 ? 'Ajv2020' : 'Ajv (draft-07)'
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(errors === 0 ? 0 : 1);
