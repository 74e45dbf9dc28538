#!/usr/bin/env node
// Every answer the suites got (tests/lib/Answers.pm wrote them down under
// MAILHOOKS_ANSWERS: make test runs this after the other suites) against
// www/openapi.json: its status is one the route describes, its type the
// described one, its body valid by that answer's schema (JSON Schema
// 2020-12, ajv), the headers the description names valid and, where
// required, there. An error on a path the description does not name, or
// one of the statuses the web server gives on any path (x-web-server-errors),
// must still be an Error. Files of the page are not the API's and are not
// checked. A self-check first shows wrong answers fail.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const ROOT = path.resolve(__dirname, '../..');
const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/openapi.json'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi.json');

let n = 0;
let failed = 0;
function ok(pass, name, why) {
  n++;
  if (!pass) failed++;
  console.log(`${pass ? 'ok' : 'not ok'} ${n} - ${name}`);
  // On standard error too: prove shows it without -v (the answers are
  // gone once make test ends).
  for (const line of (pass ? [] : why || [])) {
    console.log('#   ' + line);
    console.error(`# ${name}: ${line}`);
  }
}

const pointer = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const compiled = new Map();
function validator(ptr) {
  if (!compiled.has(ptr)) compiled.set(ptr, ajv.compile({ $ref: 'openapi.json#/' + ptr }));
  return compiled.get(ptr);
}

// An object of the description and its pointer, through a local $ref.
function resolve(obj, ptr) {
  while (obj && typeof obj.$ref === 'string' && obj.$ref.startsWith('#/')) {
    ptr = obj.$ref.slice(2);
    obj = ptr.split('/').reduce((o, k) => o && o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return { obj, ptr };
}

// The description's path template a request path is, or null. A trailing
// slash names the same route; a {parameter} is one segment.
const templates = Object.keys(spec.paths).map((t) => ({
  t, re: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '/?$'),
}));
function template(p) {
  const hit = templates.find(({ re }) => re.test(p));
  return hit ? hit.t : null;
}

const header = (a, name) => {
  const k = Object.keys(a.headers || {}).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : a.headers[k];
};

// What is wrong with one answer: a list of reasons, empty when none;
// null when it is not the API's (a file of the page).
function problems(a) {
  const t = template(a.path);
  const method = a.method === 'HEAD' ? 'get' : a.method.toLowerCase();
  const op = t && spec.paths[t][method];
  const status = String(a.status);
  const type = (header(a, 'content-type') || '').split(';')[0].trim();
  const body = Buffer.from(a.body || '', 'latin1').toString('utf8');
  const why = [];
  // The web server's own answers carry no request id: a status it gives
  // on any path is checked as its Error, whatever the route describes.
  const serverError = (spec['x-web-server-errors'].statuses || {})[status] !== undefined
    && (!op || !op.responses[status] || header(a, 'x-request-id') === undefined);
  let ptr;
  if (!op || serverError) {
    if (a.status < 400) return null;
    ptr = 'components/schemas/Error';
    if (type !== 'application/json') why.push(`an error of type "${type}", not JSON`);
  } else {
    const resp = op.responses[status] || op.responses[status[0] + 'XX'] || op.responses.default;
    if (!resp) return [`status ${status} is not described for ${method.toUpperCase()} ${t}`];
    for (const name of Object.keys(resp.headers || {})) {
      const { obj: h, ptr: hptr } = resolve(resp.headers[name],
        pointer('paths', t, method, 'responses', status, 'headers', name));
      const v = header(a, name);
      if (v === undefined) {
        if (h.required) why.push(`no ${name} header`);
        continue;
      }
      const value = h.schema && h.schema.type === 'integer' && /^-?\d+$/.test(v) ? Number(v) : v;
      const check = validator(hptr + '/schema');
      if (!check(value)) why.push(`${name}: ${v}: ${ajv.errorsText(check.errors)}`);
    }
    const media = Object.keys(resp.content || {});
    if (media.length === 0) return why;
    if (!media.includes(type)) why.push(`type "${type}", not ${media.join(' or ')}`);
    ptr = pointer('paths', t, method, 'responses', status, 'content', type || media[0], 'schema');
  }
  if (a.method === 'HEAD' || why.length) return why;
  if (type !== 'application/json') {
    const check = validator(ptr);
    return check(body) ? why : [ajv.errorsText(check.errors)];
  }
  let json;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return [`not JSON: ${body.slice(0, 80)}`];
  }
  const check = validator(ptr);
  if (!check(json)) why.push(ajv.errorsText(check.errors, { separator: '; ' }).slice(0, 400));
  return why;
}

// The self-check: answers that must be refused.
const wrong = [
  ['an events page without "more"', { method: 'GET', path: '/api/events', status: 200,
    headers: { 'content-type': 'application/json' }, body: '{"events":[],"next_before":null}' }],
  ['an event without its seq', { method: 'GET', path: '/api/events', status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"events":[{"provider":"mandrill","type":"open","message_id":"m","email":"","subject":"","ts":1,"received_at":"2026-01-01T00:00:00Z","receipt":"1"}],"more":false,"next_before":null}' }],
  ['a message whose state is no type', { method: 'GET', path: '/api/messages/m1', status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"message_id":"m1","provider":"mandrill","email":"","subject":"","state":"lost","opens":0,"clicks":0,"events":0,"first_seq":1,"last_seq":1,"last_ts":1,"timeline":[],"timeline_truncated":false}' }],
  ['a status the route does not describe', { method: 'GET', path: '/api/health', status: 418,
    headers: { 'content-type': 'application/json' }, body: '{}' }],
  ['an HTML error from the web server', { method: 'GET', path: '/nowhere', status: 404,
    headers: { 'content-type': 'text/html' }, body: '<h1>404</h1>' }],
  ['a 405 without Allow', { method: 'POST', path: '/api/stats', status: 405,
    headers: { 'content-type': 'application/json' }, body: '{"error":"method_not_allowed","detail":"x"}' }],
];
const right = [
  ['the web server\'s 503 on a route whose own 503 differs', { method: 'GET', path: '/api/health',
    status: 503, headers: { 'content-type': 'application/json' },
    body: '{"error":"unavailable","detail":"The program cannot take this request now; retry."}' }],
];
for (const [name, a] of right) {
  const why = problems(a);
  ok(why && why.length === 0, `self-check: ${name} passes`, why || ['not checked']);
}
for (const [name, a] of wrong) {
  // A 405 is the route's answer for another method: checked as GET's.
  const as = a.status === 405 ? { ...a, method: 'GET' } : a;
  const why = problems(as);
  ok(why && why.length > 0, `self-check: ${name} is refused`, ['it passed']);
}

const dir = process.env.MAILHOOKS_ANSWERS;
const files = dir && fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
if (files.length === 0) {
  console.log('# no answers written down: make test runs this after the suites, '
    + 'with MAILHOOKS_ANSWERS');
  ok(false, 'answers of the suites were written down');
} else {
  const groups = new Map();
  let pageFiles = 0;
  let total = 0;
  for (const f of files.sort()) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const a = JSON.parse(line);
      // Under an .htaccess only the program's answers (with their id).
      if (a.program_only && header(a, 'x-request-id') === undefined) {
        pageFiles++;
        continue;
      }
      // A 405 for another method is the route's: it is described there.
      const t = template(a.path);
      const asked = a.method === 'HEAD' ? 'get' : a.method.toLowerCase();
      const probe = a.status === 405 && t && !spec.paths[t][asked]
        ? { ...a, method: Object.keys(spec.paths[t])[0].toUpperCase() } : a;
      let why;
      try {
        why = problems(probe);
      } catch (e) {
        why = [`cannot be checked: ${e.message}`];
      }
      if (why === null) {
        pageFiles++;
        continue;
      }
      total++;
      const key = `${a.method} ${t || a.path} ${a.status}`;
      const g = groups.get(key) || { count: 0, bad: [] };
      g.count++;
      const shown = a.path.length > 80 ? a.path.slice(0, 77) + '...' : a.path;
      if (why.length) g.bad.push(`${path.basename(a.script || f)}: ${a.method} ${shown}: ${why.join('; ')}`);
      groups.set(key, g);
    }
  }
  console.log(`# ${total} answers of the API from ${files.length} files; ${pageFiles} not checked `
    + '(the page\'s files, and the web server\'s own under an .htaccess)');
  for (const [key, g] of [...groups].sort()) {
    ok(g.bad.length === 0, `${key}: ${g.count} answer${g.count > 1 ? 's' : ''} as described`,
      g.bad.slice(0, 5).concat(g.bad.length > 5 ? [`... and ${g.bad.length - 5} more`] : []));
  }
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
