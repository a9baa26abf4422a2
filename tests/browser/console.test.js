// Browser test of the web console (dashboards/web): the real steadfast-collector and
// steadfast-agent binaries on loopback, Debian's Chromium driven by playwright-core, and
// assertions on what a person sees — host rows, status badges and their colours, per-check
// rows, the last-seen age moving on auto-refresh, stale hosts, the alerts the checks raise
// (acknowledged with a comment and expiry, commented, unacknowledged, their history), text from
// the API shown as text (never as markup), and no errors in the browser console.
//
// Run through CTest (tests/CMakeLists.txt, label "browser") or by hand:
//   SF_COLLECTOR_BIN=build/dev/collector/steadfast-collector \
//   SF_AGENT_BIN=build/dev/agent/steadfast-agent sh tests/browser/run.sh
// Environment: SF_COLLECTOR_BIN, SF_AGENT_BIN (required); SF_WEB_ROOT (default: the repo's
// dashboards/web); SF_BROWSER_OUT_DIR (where console-hosts.png and console-host.png go; unset: none);
// SF_CHROMIUM (default /usr/bin/chromium); SF_KEEP_TEMP=1 keeps the temp dir and logs.
//
// The agent's checks read a fixture proc tree, so the statuses are known: memory 75% used with
// warning at 70% (Warning), cpu (Unknown from its second run: the counters never move), one
// filesystem read-only where read-write is expected (Critical), load, swap, uptime and a TCP
// connect to the collector (OK).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const COLLECTOR_BIN = process.env.SF_COLLECTOR_BIN;
const AGENT_BIN = process.env.SF_AGENT_BIN;
const WEB_ROOT = process.env.SF_WEB_ROOT || path.resolve(__dirname, '../../dashboards/web');
const CHROMIUM = process.env.SF_CHROMIUM || '/usr/bin/chromium';
const ENROLLMENT_TOKEN = 'browser-test-enrolment-token-0123456789';
// The console's user, created with `steadfast-collector admin create-admin`.
const ADMIN = { username: 'console-admin', password: 'Browser-Test-Passw0rd-5128' };
// ?interval=1: the console calls a host stale after 3 report intervals, i.e. 3 s.
const STALE_AFTER_MS = 3000;
const CONSOLE_PATH = '/?interval=1';
const REFRESH_MS = 5000;  // the console's auto-refresh period (app.js)

// Light-scheme colours from style.css, as getComputedStyle reports them.
const COLOURS = {
  ok: { color: 'rgb(17, 99, 41)', background: 'rgb(218, 251, 225)' },
  warning: { color: 'rgb(122, 74, 0)', background: 'rgb(255, 248, 197)' },
  critical: { color: 'rgb(164, 14, 38)', background: 'rgb(255, 235, 233)' },
  unknown: { color: 'rgb(66, 74, 83)', background: 'rgb(234, 238, 242)' },
};
const WORDS = { ok: 'OK', warning: 'Warning', critical: 'Critical', unknown: 'Unknown' };

// Markup a hostile or careless agent could send; the console must show it literally.
const EVIL_HOSTNAME = '<img src=x onerror="window.__xss=1">evil<b>host</b>';
const EVIL_CHECK = '<i>web</i>';
const EVIL_SUMMARY = '<script>window.__xss=2</script><b id="injected">bold</b> & "quoted" <a href="javascript:1">x</a>';
const EVIL_LABEL = '<svg onload="window.__xss=3">';

// ----- processes and files -------------------------------------------------------------------

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what, timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + what + (last ? ': ' + last.message : ''));
    }
    await sleep(50);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A child process whose output goes to `logPath`; stop() sends SIGTERM and resolves with the
// exit code (SIGKILL after 10 s).
function startProcess(argv, logPath) {
  const log = fs.openSync(logPath, 'a');
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code !== null ? code : 128 + os.constants.signals[signal];
      resolve(exited);
    });
    // A binary that cannot be started (missing, or being relinked: ETXTBSY) is a test failure
    // with a message, not an unhandled 'error' event that kills the runner before cleanup.
    child.once('error', (err) => {
      fs.appendFileSync(logPath, 'cannot start ' + argv[0] + ': ' + err.message + '\n');
      exited = 127;
      resolve(exited);
    });
  });
  return {
    child,
    logPath,
    running: () => exited === null,
    async stop() {
      if (exited !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

function writeFixtures(dir, port) {
  const proc = path.join(dir, 'proc');
  const roMount = path.join(dir, 'ro-mount');
  fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
  fs.mkdirSync(roMount);
  fs.writeFileSync(path.join(proc, 'stat'),
    'cpu  10000 500 3000 80000 1000 100 400 0 0 0\n' +
    'cpu0 2500 125 750 20000 250 25 100 0 0 0\ncpu1 2500 125 750 20000 250 25 100 0 0 0\n' +
    'cpu2 2500 125 750 20000 250 25 100 0 0 0\ncpu3 2500 125 750 20000 250 25 100 0 0 0\n');
  fs.writeFileSync(path.join(proc, 'meminfo'),
    'MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    2000000 kB\n' +
    'SwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n');
  fs.writeFileSync(path.join(proc, 'loadavg'), '1.50 2.00 2.50 3/512 12345\n');
  fs.writeFileSync(path.join(proc, 'uptime'), '273600.52 1000000.00\n');
  fs.writeFileSync(path.join(proc, 'self', 'mounts'),
    'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n' + '/dev/sdz1 ' + roMount + ' ext4 ro,relatime 0 0\n');

  fs.writeFileSync(path.join(dir, 'collector.yaml'), [
    'listen: 127.0.0.1:' + port,
    'data_dir: ' + path.join(dir, 'collector'),
    'web_root: ' + WEB_ROOT,
    'enrollment_tokens: [' + ENROLLMENT_TOKEN + ']',
    'storage: {synchronous: NORMAL}',
    // The floors the config allows: the test logs in twice, each login hashes once.
    'auth: {argon2: {memory: 19MiB, iterations: 1, parallelism: 1}}',
    'log: {level: warn}',
    // Alerts for critical and warning checks, kept in the console (no channel).
    'alerting:',
    '  rule_files: [rules.yaml]',
    '  route: {receiver: console}',
    '  receivers: [{name: console}]',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'rules.yaml'), [
    'rules:',
    '  - name: check-critical',
    '    kind: check_status',
    '    statuses: [critical]',
    '    severity: critical',
    "    annotations: {summary: '{{check}} {{target}} on {{host}} is critical', runbook_url: 'javascript:window.__xss=4'}",
    '  - name: check-warning',
    '    kind: check_status',
    '    statuses: [warning]',
    '    severity: warning',
    "    annotations: {summary: '{{check}} on {{host}} needs a look', runbook_url: 'https://wiki.example.org/runbooks/warning'}",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'agent.yaml'), [
    'collector_url: http://127.0.0.1:' + port,
    'enrollment_token: ' + ENROLLMENT_TOKEN,
    'state_dir: ' + path.join(dir, 'agent'),
    'proc_root: ' + proc,
    'log: {level: warn}',
    'uplink: {interval: 200ms, timeout: 2s, max_backoff: 1s}',
    'checks:',
    '  - {name: system, type: system, interval: 1s, memory_warning_percent: 70, memory_critical_percent: 90}',
    '  - {name: disks, type: filesystem, interval: 1s, expect_rw: [' + roMount + ']}',
    '  - {name: collector-port, type: tcp, interval: 1s, target: 127.0.0.1:' + port + ', timeout: 500ms}',
    '',
  ].join('\n'));
  return { roMount };
}

// ----- the collector's API, as the test's own client -----------------------------------------

// The first admin, as an operator creates it on the collector's machine.
function createAdmin(dir) {
  const r = spawnSync(COLLECTOR_BIN, ['admin', 'create-admin', '--config', path.join(dir, 'collector.yaml'),
    '--username', ADMIN.username, '--password-stdin'], { input: ADMIN.password + '\n', encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, 'steadfast-collector admin create-admin: ' + r.stdout + r.stderr);
}

// Logs in through the API; returns the Cookie header value for the test's own reads.
async function apiLogin(base) {
  const r = await fetch(base + '/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 200, 'login: ' + await r.text());
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('sf_session='));
  assert.ok(cookie, 'login sets the sf_session cookie');
  return cookie.split(';')[0];
}

let apiCookie = '';

async function api(base, method, apiPath, body, headers) {
  const response = await fetch(base + apiPath, {
    method,
    // The session only on reads: the agent endpoints take the agent's own token.
    headers: Object.assign({ 'Content-Type': 'application/json' }, method === 'GET' ? { Cookie: apiCookie } : {},
      headers || {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    json = null;
  }
  return { status: response.status, json, text };
}

// ----- the console -----------------------------------------------------------------------------

// Opens the console and logs in through its form, the way a user does, and waits for the
// first render. The only place in this file that knows how a person logs in.
async function openConsole(page, base, query) {
  const response = await page.goto(base + (query || CONSOLE_PATH), { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  await page.waitForSelector('#login-view:not([hidden])');
  assert.equal(await page.isVisible('#hosts-view'), false, 'nothing is shown before logging in');
  await page.fill('#login-username', ADMIN.username);
  await page.fill('#login-password', ADMIN.password);
  await page.click('#login-submit');
  await page.waitForFunction(() => /^Updated /.test(document.getElementById('updated').textContent));
  assert.equal(await page.isVisible('#login-view'), false);
  assert.equal(await page.textContent('#who-name'), ADMIN.username);
}

// Marks the rows of table body `bodyId` as old; every render replaces all rows, so
// waitForRender then tells a finished render from the old rows still on screen.
async function markRows(page, bodyId) {
  await page.evaluate((id) => {
    for (const tr of document.querySelectorAll('#' + id + ' tr')) tr.dataset.old = '1';
  }, bodyId);
}

async function waitForRender(page, viewId, bodyId, rows, timeout) {
  await page.waitForFunction(([view, body, n]) => {
    const trs = Array.from(document.querySelectorAll('#' + body + ' tr'));
    return !document.getElementById(view).hidden && trs.length === n && trs.every((tr) => tr.dataset.old !== '1');
  }, [viewId, bodyId, rows], { timeout });
}

// Back to the hosts list (each step starts there, so one failing step does not fail the next).
async function showHosts(page) {
  if (await page.evaluate(() => window.location.hash === '' || window.location.hash === '#')) return;
  await markRows(page, 'hosts-body');
  await page.click('#home-link');
  await waitForRender(page, 'hosts-view', 'hosts-body', 2);
}

// Opens a host's page the way a user does: its link in the hosts list.
async function showHost(page, id, checks) {
  await showHosts(page);
  await markRows(page, 'checks-body');
  await page.click('#hosts-body a[href="#host=' + encodeURIComponent(id) + '"]');
  await waitForRender(page, 'host-view', 'checks-body', checks);
}

// The rows of the hosts table as the user sees them.
function hostRows(page) {
  return page.$$eval('#hosts-body tr', (rows) => rows.map((tr) => {
    const badge = tr.querySelector('.badge');
    const style = badge ? getComputedStyle(badge) : null;
    const time = tr.querySelector('td.age time');
    return {
      hostname: tr.querySelector('a.host-link').textContent,
      id: tr.querySelector('th .sub').textContent,
      href: tr.querySelector('a.host-link').getAttribute('href'),
      badge: badge ? badge.textContent.trim() : null,
      badgeClass: badge ? badge.className : null,
      color: style ? style.color : null,
      background: style ? style.backgroundColor : null,
      counts: tr.querySelector('td.counts').textContent,
      age: tr.querySelector('td.age').textContent,
      lastSeen: time ? time.getAttribute('datetime') : null,
      stale: tr.classList.contains('stale'),
      rowColor: getComputedStyle(tr.querySelector('th')).color,
    };
  }));
}

function checkRows(page) {
  return page.$$eval('#checks-body tr', (rows) => rows.map((tr) => {
    const badge = tr.querySelector('.badge');
    const style = getComputedStyle(badge);
    return {
      check: tr.querySelector('th').textContent,
      target: tr.children[1].textContent,
      badge: badge.textContent.trim(),
      badgeClass: badge.className,
      color: style.color,
      background: style.backgroundColor,
      summary: tr.querySelector('.summary-cell').textContent,
      metrics: Array.from(tr.querySelectorAll('.metrics li')).map((li) => li.textContent),
    };
  }));
}

function assertBadge(row, status, where) {
  assert.equal(row.badge, (status === 'ok' ? '\u2714' : status === 'critical' ? '\u2716' : status === 'warning' ? '!' : '?') +
    ' ' + WORDS[status], where + ': badge text');
  assert.match(row.badgeClass, new RegExp('\\bbadge-' + status + '\\b'), where + ': badge class');
  assert.equal(row.color, COLOURS[status].color, where + ': badge colour');
  assert.equal(row.background, COLOURS[status].background, where + ': badge background');
}

// ----- the test --------------------------------------------------------------------------------

describe('web console in Chromium', { timeout: 60000 }, () => {
  let dir, base, collector, agent, context, page, hostId, evilId, roMount;
  const hostname = os.hostname();
  const consoleErrors = [];
  let loggedIn = false;
  const outDir = process.env.SF_BROWSER_OUT_DIR;

  before(async () => {
    assert.ok(COLLECTOR_BIN && AGENT_BIN, 'SF_COLLECTOR_BIN and SF_AGENT_BIN must name the binaries to test');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-browser-'));
    const port = await freePort();
    base = 'http://127.0.0.1:' + port;
    ({ roMount } = writeFixtures(dir, port));

    collector = startProcess([COLLECTOR_BIN, '--config', path.join(dir, 'collector.yaml')], path.join(dir, 'collector.log'));
    await waitFor('the collector to be ready (log: ' + collector.logPath + ')', 15000, async () => {
      if (!collector.running()) {
        throw Object.assign(new Error('the collector exited: ' + fs.readFileSync(collector.logPath, 'utf8')), { fatal: true });
      }
      return (await fetch(base + '/readyz')).status === 200;
    });
    createAdmin(dir);
    apiCookie = await apiLogin(base);
    agent = startProcess([AGENT_BIN, '--config', path.join(dir, 'agent.yaml')], path.join(dir, 'agent.log'));
    // Every check reported, and cpu twice (its second result is the Unknown one).
    hostId = await waitFor('the agent\'s first results (log: ' + agent.logPath + ')', 15000, async () => {
      if (!agent.running()) {
        throw Object.assign(new Error('the agent exited: ' + fs.readFileSync(agent.logPath, 'utf8')), { fatal: true });
      }
      const hosts = await api(base, 'GET', '/api/v1/hosts');
      if (!hosts.json || hosts.json.items.length !== 1) return null;
      const id = hosts.json.items[0].id;
      const checks = await api(base, 'GET', '/api/v1/hosts/' + encodeURIComponent(id) + '/checks');
      const cpu = checks.json.items.find((c) => c.target === 'cpu');
      return checks.json.items.length === 7 && cpu && cpu.status === 'unknown' ? id : null;
    });

    // A second host whose name, check, summary and metric label are markup.
    const enrol = await api(base, 'POST', '/api/v1/enroll', {
      version: 1,
      enrollment_token: ENROLLMENT_TOKEN,
      host: { hostname: EVIL_HOSTNAME, os: 'Evil OS', kernel: 'k', arch: 'x', agent_version: '0' },
    });
    assert.equal(enrol.status, 200, enrol.text);
    evilId = enrol.json.agent_id;
    const now = new Date().toISOString();
    const report = await api(base, 'POST', '/api/v1/reports', {
      version: 1,
      agent_id: evilId,
      sent_at: now,
      host: { hostname: EVIL_HOSTNAME, os: 'Evil OS', kernel: 'k', arch: 'x', agent_version: '0' },
      results: [{
        seq: 1, check: EVIL_CHECK, target: '<u>t</u>', status: 'warning', summary: EVIL_SUMMARY,
        observed_at: now, duration_ms: 1,
        metrics: [{ name: 'm', labels: { l: EVIL_LABEL }, value: 1, unit: '' }], details: {},
      }],
    }, { Authorization: 'Bearer ' + enrol.json.agent_token });
    assert.equal(report.status, 200, report.text);

    context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      colorScheme: 'light',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && msg.type() !== 'warning') return;
      // Chromium logs every 4xx as an error; the console learns that nobody is logged in yet
      // from the 401 of its first session request, and that one is expected.
      if (!loggedIn && /status of 401/.test(msg.text()) && msg.location().url.endsWith('/api/v1/auth/session')) return;
      consoleErrors.push(msg.type() + ': ' + msg.text() + ' (' + msg.location().url + ')');
    });
    page.on('pageerror', (err) => consoleErrors.push('page error: ' + err.message));
    page.on('requestfailed', (req) => consoleErrors.push('request failed: ' + req.url()));
    await openConsole(page, base);
    loggedIn = true;
  });

  after(async () => {
    if (context) await context.close();
    if (agent) await agent.stop();
    if (collector) await collector.stop();
    if (dir && !process.env.SF_KEEP_TEMP) fs.rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log('kept ' + dir);
  });

  it('lists the host with its name, worst-status badge, check counts and last-seen age', async () => {
    await showHosts(page);
    const rows = await hostRows(page);
    assert.equal(rows.length, 2, JSON.stringify(rows));
    const row = rows.find((r) => r.id === hostId);
    assert.ok(row, 'the agent\'s host is listed: ' + JSON.stringify(rows));
    assert.equal(row.hostname, hostname);
    assert.equal(row.href, '#host=' + encodeURIComponent(hostId));
    assertBadge(row, 'critical', 'host row');
    assert.equal(row.counts, '1 critical1 warning1 unknown4 ok');
    assert.match(row.age, /^\d+ s ago$/);
    assert.equal(row.stale, false);
    assert.match(await page.textContent('#hosts-summary'), /^2 hosts · 1 critical · 1 warning/);
    assert.equal(await page.isVisible('#error-banner'), false);
    assert.equal(await page.textContent('#stale-after'), '3 s');
  });

  it('shows every check of the host with its status word and colour', async () => {
    await showHost(page, hostId, 7);
    assert.equal(await page.textContent('#host-title'), hostname);
    assert.equal(await page.title(), hostname + ' \u2014 Steadfast');
    const rows = await checkRows(page);
    const expected = [  // worst first, then by check and target
      ['disks', roMount, 'critical'],
      ['system', 'memory', 'warning'],
      ['system', 'cpu', 'unknown'],
      ['collector-port', '127.0.0.1:' + new URL(base).port, 'ok'],
      ['system', 'load', 'ok'],
      ['system', 'swap', 'ok'],
      ['system', 'uptime', 'ok'],
    ];
    assert.deepEqual(rows.map((r) => [r.check, r.target]), expected.map(([c, t]) => [c, t]));
    for (let i = 0; i < expected.length; i++) assertBadge(rows[i], expected[i][2], expected[i][0] + '/' + expected[i][1]);
    assert.match(rows[0].summary, /read-only/);
    assert.match(rows[1].summary, /^memory 75\.0% used/);
    assert.ok(rows[1].metrics.some((m) => /^memory_used_ratio = 75\.0%$/.test(m)), JSON.stringify(rows[1].metrics));
    assert.deepEqual(rows[4].metrics, ['load1 = 1.500', 'load5 = 2', 'load15 = 2.500']);
    assert.equal(rows[6].metrics[0], 'uptime_seconds = 273601 seconds', 'no exponent notation');
    // The summary stays readable next to long metric lines (it was squeezed to a word per line).
    const summaryWidth = await page.$eval('#checks-body tr:first-child .summary-cell', (td) => td.getBoundingClientRect().width);
    assert.ok(summaryWidth >= 180, 'summary column is ' + summaryWidth + ' px wide');
    assertBadge(await page.$eval('#host-status .badge', (b) => {
      const s = getComputedStyle(b);
      return { badge: b.textContent.trim(), badgeClass: b.className, color: s.color, background: s.backgroundColor };
    }), 'critical', 'host header');
    if (outDir) {
      fs.mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: path.join(outDir, 'console-host.png'), fullPage: true });
    }
    await markRows(page, 'hosts-body');
    await page.click('#host-view a.back');
    await waitForRender(page, 'hosts-view', 'hosts-body', 2);
  });

  it('asks the host\'s agent for an emergency backup and shows what the agent answered', async () => {
    await showHost(page, hostId, 7);
    assert.equal(await page.isVisible('#actions-empty'), true, 'nothing asked yet');
    await page.click('#emergency-open');
    await page.waitForSelector('#emergency-dialog[open]');
    assert.equal(await page.textContent('#emergency-host'), hostname);
    // The reason is required: without one the form does not go out.
    await page.click('#emergency-submit');
    assert.equal(await page.isVisible('#emergency-dialog'), true);
    await page.fill('#emergency-job', 'records');
    await page.fill('#emergency-reason', 'UPS on battery: preserve the data');
    await page.click('#emergency-submit');
    await page.waitForSelector('#emergency-dialog', { state: 'hidden' });
    // This test's agent allows no actions (actions.allowed is empty): it refuses, and says why.
    await page.waitForFunction(() => {
      const row = document.querySelector('#actions-body tr');
      return row && /Refused/.test(row.textContent);
    }, null, { timeout: 20000 });
    const cells = await page.$$eval('#actions-body tr:first-child td', (tds) => tds.map((td) => td.textContent.trim()));
    assert.equal(cells[1], 'Emergency backup (job records)');
    assert.equal(cells[2], ADMIN.username);
    assert.equal(cells[3], 'UPS on battery: preserve the data');
    assert.equal(cells[4], 'Refused');
    assert.match(cells[5], /emergency_backup is not allowed on this agent/);
    assert.equal(await page.isVisible('#actions-empty'), false);
    // The request is in the audit trail with its reason.
    const audit = await api(base, 'GET', '/api/v1/audit?action=hosts.action');
    assert.equal(audit.status, 200, audit.text);
    assert.match(audit.text, /UPS on battery: preserve the data/);
    await markRows(page, 'hosts-body');
    await page.click('#host-view a.back');
    await waitForRender(page, 'hosts-view', 'hosts-body', 2);
  });

  it('shows markup from the API as text, never as markup', async () => {
    await showHosts(page);
    const evil = (await hostRows(page)).find((r) => r.id === evilId);
    assert.ok(evil);
    assert.equal(evil.hostname, EVIL_HOSTNAME);
    assert.equal(await page.$$eval('#hosts-body img, #hosts-body b, #hosts-body script', (n) => n.length), 0);
    await showHost(page, evilId, 1);
    assert.equal(await page.textContent('#host-title'), EVIL_HOSTNAME);
    const [row] = await checkRows(page);
    assert.equal(row.check, EVIL_CHECK);
    assert.equal(row.target, '<u>t</u>');
    assert.equal(row.summary, EVIL_SUMMARY);
    assert.deepEqual(row.metrics, ['m{l=' + EVIL_LABEL + '} = 1']);
    assertBadge(row, 'warning', 'crafted check');
    assert.equal(await page.$$eval('main img, main script, main svg, main i, main u, #injected', (n) => n.length), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  // The rows of the alerts table as the user sees them.
  function alertRows() {
    return page.$$eval('#alerts-body tr', (rows) => rows.map((tr) => ({
      fingerprint: tr.dataset.fingerprint,
      severity: tr.querySelector('.badge').textContent.trim(),
      name: tr.querySelector('a.alert-link').textContent,
      summary: (tr.querySelector('.summary-text') || { textContent: '' }).textContent,
      host: tr.querySelector('.host-cell').firstChild.textContent,
      state: tr.querySelector('td.age').textContent,
      ack: tr.querySelector('td.ack').textContent,
      button: (tr.querySelector('.actions button') || { textContent: '' }).textContent,
    })));
  }

  async function showAlerts(rows) {
    await markRows(page, 'alerts-body');
    await page.click('#nav-alerts');
    await waitForRender(page, 'alerts-view', 'alerts-body', rows);
  }

  it('lists the active alerts, most severe first, with the unacknowledged count in the navigation', async () => {
    await waitFor('three firing alerts', 15000, async () => {
      const r = await api(base, 'GET', '/api/v1/alerts?state=firing');
      return r.json && r.json.items.length === 3;
    });
    await showHosts(page);
    await page.waitForFunction(() => document.getElementById('alerts-count').textContent === '3', null,
      { timeout: REFRESH_MS + 4000 });
    await showAlerts(3);
    assert.equal(await page.title(), 'Alerts \u2014 Steadfast');
    const rows = await alertRows();
    assert.deepEqual(rows.map((r) => r.severity), ['\u2716 Critical', '! Warning', '! Warning']);
    assert.equal(rows[0].name, 'check-critical');
    assert.equal(rows[0].host, hostname);
    assert.equal(rows[0].summary, 'disks ' + roMount + ' on ' + hostname + ' is critical');
    assert.match(rows[0].state, /^Firing since \d+ s ago$/);
    assert.equal(rows[0].ack, '\u2014');
    assert.equal(rows[0].button, 'Acknowledge');
    // The crafted host's markup is text here too.
    const evil = rows.find((r) => r.host === EVIL_HOSTNAME);
    assert.ok(evil, JSON.stringify(rows));
    assert.equal(evil.summary, EVIL_CHECK + ' on ' + EVIL_HOSTNAME + ' needs a look');
    assert.equal(await page.$$eval('#alerts-body img, #alerts-body b, #alerts-body i, #alerts-body script', (n) => n.length), 0);
    assert.match(await page.textContent('#alerts-summary'), /^3 active · 3 firing · 0 pending · 0 acknowledged$/);
  });

  it('acknowledges an alert with a comment and an expiry, comments on it and shows its history', async () => {
    await showAlerts(3);
    const critical = (await alertRows())[0];
    await page.click('#alerts-body tr[data-fingerprint="' + critical.fingerprint + '"] .ack-button');
    await page.waitForSelector('#ack-dialog[open]');
    await page.fill('#ack-comment', 'replacing the disk <b>now</b>');
    await page.selectOption('#ack-expires', '4h');
    const clicked = Date.now();
    await page.click('#ack-submit');
    await page.waitForFunction((fp) => {
      const tr = document.querySelector('#alerts-body tr[data-fingerprint="' + fp + '"]');
      return tr && /^by console-admin/.test(tr.querySelector('td.ack').textContent);
    }, critical.fingerprint);
    assert.equal(await page.isVisible('#ack-dialog'), false);
    const stored = await api(base, 'GET', '/api/v1/alerts?fingerprint=' + critical.fingerprint);
    const ack = stored.json.items[0].acknowledgement;
    assert.equal(ack.by, ADMIN.username);
    assert.equal(ack.comment, 'replacing the disk <b>now</b>');
    const expires = Date.parse(ack.expires_at) - clicked;
    assert.ok(expires > 4 * 3600e3 - 60e3 && expires <= 4 * 3600e3 + 60e3, 'expires in 4 h: ' + ack.expires_at);
    // Acknowledged alerts sort after the unacknowledged ones of their severity and leave the count.
    await page.waitForFunction(() => document.getElementById('alerts-count').textContent === '2');
    assert.match(await page.textContent('#alerts-summary'), /· 1 acknowledged$/);

    // The link every notification carries (#/alerts/<fingerprint>) opens its detail.
    await page.click('#alerts-body tr[data-fingerprint="' + critical.fingerprint + '"] a.alert-link');
    await page.waitForSelector('#alert-detail:not([hidden])');
    assert.equal(await page.evaluate(() => window.location.hash), '#/alerts/' + critical.fingerprint);
    assert.equal(await page.textContent('#alert-detail-title'), 'check-critical \u2014 firing');
    const history = () => page.$$eval('#alert-history li', (lis) => lis.map((li) => li.textContent.replace(/^.*? (?=[a-z]+ by )/, '')));
    assert.deepEqual(await history(), ['firing by system', 'acknowledged by console-admin: replacing the disk <b>now</b>']);
    // A runbook link that is not http(s) stays text.
    assert.equal(await page.$$eval('#alert-detail-meta a', (a) => a.length), 0);
    await page.fill('#comment-text', 'spare ordered');
    await page.click('#comment-submit');
    await page.waitForFunction(() => document.querySelectorAll('#alert-history li').length === 3);
    assert.match((await history())[2], /^commented by console-admin: spare ordered$/);

    await page.click('#alerts-body tr[data-fingerprint="' + critical.fingerprint + '"] .unack-button');
    await page.waitForFunction((fp) => {
      const tr = document.querySelector('#alerts-body tr[data-fingerprint="' + fp + '"]');
      return tr && tr.querySelector('td.ack').textContent === '\u2014';
    }, critical.fingerprint);
    await page.waitForFunction(() => document.getElementById('alerts-count').textContent === '3');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    if (outDir) {
      fs.mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: path.join(outDir, 'console-alerts.png'), fullPage: true });
    }
    await page.click('#nav-hosts');
    await waitForRender(page, 'hosts-view', 'hosts-body', 2);
  });

  it('updates the last-seen age on auto-refresh, without reloading the page', async () => {
    await showHosts(page);
    const before = (await hostRows(page)).find((r) => r.id === hostId);
    // Marks that only a re-render removes (rows) or only a reload removes (window).
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    await markRows(page, 'hosts-body');
    const updatedBefore = await page.textContent('#updated');
    await waitForRender(page, 'hosts-view', 'hosts-body', 2, REFRESH_MS + 4000);
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    const after = (await hostRows(page)).find((r) => r.id === hostId);
    assert.ok(Date.parse(after.lastSeen) > Date.parse(before.lastSeen),
      'last seen moved from ' + before.lastSeen + ' to ' + after.lastSeen);
    assert.match(after.age, /^\d+ s ago$/);
    assert.equal(after.stale, false, 'a host that reports every second is not stale');
    assert.notEqual(await page.textContent('#updated'), updatedBefore);
  });

  it('shows a host that stopped reporting as stale', async () => {
    await showHosts(page);
    const staleRow = (id, timeout) => page.waitForFunction((hid) => {
      for (const tr of document.querySelectorAll('#hosts-body tr')) {
        if (tr.querySelector('th .sub').textContent === hid) return tr.classList.contains('stale');
      }
      return false;
    }, id, { timeout });
    // The crafted host reported once, in before(); by the next refresh that is over 3 s ago.
    await staleRow(evilId, STALE_AFTER_MS + REFRESH_MS + 2000);
    const evil = (await hostRows(page)).find((r) => r.id === evilId);
    assert.match(evil.age, /^\d+ s ago \(stale\)$/);
    assert.equal(evil.rowColor, 'rgb(110, 119, 129)', 'a stale row is greyed out');
    const fresh = (await hostRows(page)).find((r) => r.id === hostId);
    assert.equal(fresh.stale, false, 'the agent still reports');
    assert.notEqual(fresh.rowColor, evil.rowColor);

    assert.equal(await agent.stop(), 0, 'the agent stops cleanly on SIGTERM');
    const stoppedAt = Date.now();
    await staleRow(hostId, STALE_AFTER_MS + 2 * REFRESH_MS + 2000);
    const row = (await hostRows(page)).find((r) => r.id === hostId);
    assert.match(row.age, /^\d+ s ago \(stale\)$/);
    assertBadge(row, 'critical', 'stale host keeps its last status');
    assert.match(await page.textContent('#hosts-summary'), /· 2 stale$/);
    assert.ok(Date.now() - stoppedAt < STALE_AFTER_MS + 2 * REFRESH_MS + 2000);
    if (outDir) {
      fs.mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: path.join(outDir, 'console-hosts.png'), fullPage: true });
    }
  });

  it('logged no errors or warnings in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });

  it('the collector stops cleanly on SIGTERM', async () => {
    assert.equal(await collector.stop(), 0, 'log: ' + collector.logPath);
  });
});
