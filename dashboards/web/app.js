// Steadfast console: hosts and their checks, and the active alerts (acknowledge, comment,
// history), from the collector's REST API.
// No build step, no dependencies. All text from the API goes into the page through
// textContent / createTextNode only (never innerHTML), so host names, summaries and metric
// labels cannot inject markup.
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const PAGE_LIMIT = 1000;
  const MAX_PAGES = 20;  // at most 20,000 hosts in the table
  const REQUEST_TIMEOUT_MS = 8000;

  // A host is stale after three report intervals; the interval defaults to the agent's
  // default check interval (60 s) and can be set with ?interval=SECONDS.
  const params = new URLSearchParams(window.location.search);
  const intervalParam = Number(params.get('interval'));
  const REPORT_INTERVAL_S = Number.isFinite(intervalParam) && intervalParam > 0 ? intervalParam : 60;
  const STALE_AFTER_MS = 3 * REPORT_INTERVAL_S * 1000;

  // Status presentation: colour is never the only signal; each badge has a symbol and a word.
  const STATUS = {
    ok: { label: 'OK', symbol: '\u2714', rank: 0 },
    unknown: { label: 'Unknown', symbol: '?', rank: 1 },
    warning: { label: 'Warning', symbol: '!', rank: 2 },
    critical: { label: 'Critical', symbol: '\u2716', rank: 3 },
  };

  const $ = (id) => document.getElementById(id);
  let timer = null;
  let inFlight = false;
  let again = false;  // a refresh was asked for while one was running (e.g. a click)

  // ----- small DOM helpers ---------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else node.setAttribute(key, String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function badge(status) {
    const s = STATUS[status];
    if (!s) return el('span', { class: 'badge badge-none', text: 'No data' });
    return el('span', { class: 'badge badge-' + status },
      el('span', { class: 'badge-symbol', 'aria-hidden': 'true', text: s.symbol }), ' ' + s.label);
  }

  // ----- time ------------------------------------------------------------------------------

  function parseTime(text) {
    if (!text) return null;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms;
  }

  function formatAge(ms) {
    if (ms === null) return 'never';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s ago';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ago';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ago';
    return Math.floor(h / 24) + ' d ago';
  }

  function formatDuration(ms) {
    const s = Math.round(ms / 1000);
    return s < 120 ? s + ' s' : Math.round(s / 60) + ' min';
  }

  // ----- API -------------------------------------------------------------------------------

  // The logged-in person: CSRF token (kept in memory only) and name. null until known.
  let session = null;

  // Sends a JSON request with the session's CSRF token (the cookie travels by itself).
  async function sendJson(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
      credentials: 'same-origin',
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { status: response.status, ok: response.ok, data, headers: response.headers };
  }

  function errorOf(result) {
    const e = result.data && result.data.error ? result.data.error : {};
    return { code: e.code || '', message: e.message || 'HTTP ' + result.status };
  }

  async function getJson(path) {
    const controller = new AbortController();
    const t = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(path, { headers: { Accept: 'application/json' }, signal: controller.signal, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(e.name === 'AbortError' ? 'the request timed out' : 'network error (' + e.message + ')', 0);
    } finally {
      clearTimeout(t);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error && body.error.message ? body.error.message : response.statusText;
      const code = body && body.error && body.error.code ? body.error.code : '';
      throw new ApiError('HTTP ' + response.status + ': ' + message, response.status, code);
    }
    if (body === null) throw new ApiError('the response was not JSON', response.status);
    return body;
  }

  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code || '';
    }
  }

  // ----- login, logout, password change --------------------------------------------------

  // Shows exactly one of: login form, password form, or the monitoring views.
  function showAuth(which) {
    $('login-view').hidden = which !== 'login';
    $('password-view').hidden = which !== 'password';
    const inApp = which === null;
    if (!inApp) {
      $('hosts-view').hidden = true;
      $('host-view').hidden = true;
      $('alerts-view').hidden = true;
      hideError();
    }
    $('views').hidden = !inApp;
    $('who').hidden = !session || which === 'login';
    if (session) $('who-name').textContent = session.name;
    $('updated').hidden = !inApp;
  }

  function formError(id, message) {
    $(id).textContent = message;
    $(id).hidden = !message;
  }

  function needLogin() {
    session = null;
    showAuth('login');
    $('login-password').value = '';
    $('login-username').focus();
  }

  // Asks the collector who we are (also after a reload: the CSRF token lives only in memory).
  async function loadSession() {
    let r;
    try {
      r = await sendJson('GET', '/api/v1/auth/session');
    } catch (e) {
      showError('network error (' + e.message + ')');
      return false;
    }
    if (r.status === 401) {
      needLogin();
      return false;
    }
    if (!r.ok) {
      showError(errorOf(r).message);
      return false;
    }
    const p = r.data.principal || {};
    session = { csrf: r.data.csrf_token || '', name: (r.data.user && r.data.user.display_name) || p.name || '',
                roles: Array.isArray(p.roles) ? p.roles : null };
    if (p.must_change_password) {
      showAuth('password');
      return false;
    }
    showAuth(null);
    return true;
  }

  async function onLogin(ev) {
    ev.preventDefault();
    formError('login-error', '');
    const body = { username: $('login-username').value.trim(), password: $('login-password').value };
    if (!$('login-totp-row').hidden && $('login-totp').value) body.totp_code = $('login-totp').value;
    $('login-submit').disabled = true;
    let r;
    try {
      r = await sendJson('POST', '/api/v1/auth/login', body);
    } catch (e) {
      formError('login-error', 'Cannot reach the collector: ' + e.message);
      return;
    } finally {
      $('login-submit').disabled = false;
    }
    if (!r.ok) {
      const e = errorOf(r);
      if (e.code === 'totp_required') {
        $('login-totp-row').hidden = false;
        $('login-totp').focus();
        formError('login-error', 'Enter the 6-digit code from your authenticator app.');
      } else if (r.status === 429) {
        formError('login-error', 'Too many failed attempts. Try again in ' + (r.headers.get('Retry-After') || 'a few') +
          ' seconds.');
      } else {
        formError('login-error', e.message);
      }
      return;
    }
    $('login-password').value = '';
    $('login-totp').value = '';
    $('login-totp-row').hidden = true;
    if (await loadSession()) {
      refresh();
      schedule();
    }
  }

  async function onPasswordChange(ev) {
    ev.preventDefault();
    formError('password-error', '');
    if ($('pw-new').value !== $('pw-again').value) {
      formError('password-error', 'The two new passwords differ.');
      return;
    }
    const r = await sendJson('POST', '/api/v1/auth/password',
      { current_password: $('pw-current').value, new_password: $('pw-new').value });
    if (!r.ok) {
      formError('password-error', errorOf(r).message);
      return;
    }
    for (const id of ['pw-current', 'pw-new', 'pw-again']) $(id).value = '';
    if (await loadSession()) {
      refresh();
      schedule();
    }
  }

  async function onLogout() {
    try {
      await sendJson('POST', '/api/v1/auth/logout');
    } finally {
      if (timer !== null) clearInterval(timer);
      timer = null;
      needLogin();
    }
  }

  async function fetchAllHosts() {
    let offset = 0;
    let items = [];
    let total = 0;
    let serverTime = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const doc = await getJson('/api/v1/hosts?limit=' + PAGE_LIMIT + '&offset=' + offset);
      items = items.concat(doc.items || []);
      total = doc.total || 0;
      serverTime = parseTime(doc.server_time);
      if (doc.next_offset === null || doc.next_offset === undefined) break;
      offset = doc.next_offset;
    }
    return { items, total, serverTime };
  }

  // ----- rendering -------------------------------------------------------------------------

  function showError(message) {
    $('error-text').textContent = message ? '(' + message + ')' : '';
    $('error-banner').hidden = false;
  }

  function hideError() {
    $('error-banner').hidden = true;
  }

  function setUpdated(now) {
    $('updated').textContent = 'Updated ' + new Date(now).toLocaleTimeString();
  }

  function countsCell(counts) {
    const cell = el('td', { class: 'counts' });
    const order = ['critical', 'warning', 'unknown', 'ok'];
    let any = false;
    for (const status of order) {
      const n = counts && counts[status] ? counts[status] : 0;
      if (n === 0) continue;
      any = true;
      cell.appendChild(el('span', { class: 'count count-' + status }, String(n) + ' ' + STATUS[status].label.toLowerCase()));
    }
    if (!any) cell.appendChild(document.createTextNode('\u2014'));
    return cell;
  }

  function lastSeenCell(lastSeenMs, nowMs) {
    const age = lastSeenMs === null ? null : nowMs - lastSeenMs;
    const stale = age === null || age > STALE_AFTER_MS;
    const cell = el('td', { class: stale ? 'age age-stale' : 'age' });
    const time = el('time', { datetime: lastSeenMs === null ? null : new Date(lastSeenMs).toISOString(),
                              title: lastSeenMs === null ? 'no report yet' : new Date(lastSeenMs).toLocaleString() },
      formatAge(age));
    cell.appendChild(time);
    if (stale) cell.appendChild(el('span', { class: 'stale-label', text: lastSeenMs === null ? ' (no report)' : ' (stale)' }));
    return { cell, stale };
  }

  function renderHosts(data) {
    const body = $('hosts-body');
    clear(body);
    const now = data.serverTime !== null ? data.serverTime : Date.now();
    const tally = { critical: 0, warning: 0, unknown: 0, ok: 0, none: 0, stale: 0 };
    for (const host of data.items) {
      const lastSeen = lastSeenCell(parseTime(host.last_seen), now);
      const link = el('a', { href: '#host=' + encodeURIComponent(host.id), class: 'host-link' }, host.hostname || host.id);
      const row = el('tr', { class: lastSeen.stale ? 'stale' : null },
        el('th', { scope: 'row' }, link, el('div', { class: 'sub', text: host.id })),
        el('td', { text: host.os || '\u2014' }),
        el('td', null, badge(host.worst_status)),
        countsCell(host.status_counts),
        lastSeen.cell);
      body.appendChild(row);
      if (host.worst_status && tally[host.worst_status] !== undefined) tally[host.worst_status]++;
      else tally.none++;
      if (lastSeen.stale) tally.stale++;
    }
    $('hosts-empty').hidden = data.items.length !== 0;
    const parts = [data.total + (data.total === 1 ? ' host' : ' hosts')];
    for (const status of ['critical', 'warning', 'unknown', 'ok']) {
      if (tally[status]) parts.push(tally[status] + ' ' + STATUS[status].label.toLowerCase());
    }
    if (tally.stale) parts.push(tally.stale + ' stale');
    $('hosts-summary').textContent = parts.join(' \u00b7 ');
    const note = $('hosts-note');
    note.hidden = data.items.length >= data.total;
    note.textContent = note.hidden ? '' : 'Showing the first ' + data.items.length + ' of ' + data.total + ' hosts.';
  }

  function metricText(m) {
    let name = m.name;
    const labels = m.labels ? Object.entries(m.labels) : [];
    if (labels.length) name += '{' + labels.map(([k, v]) => k + '=' + v).join(', ') + '}';
    let value = typeof m.value === 'number' ? m.value : Number(m.value);
    let unit = m.unit || '';
    if (unit === 'ratio') {
      value = (value * 100).toFixed(1);
      unit = '%';
    } else if (unit === 'bytes') {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      while (Math.abs(value) >= 1024 && i < units.length - 1) {
        value /= 1024;
        i++;
      }
      value = i === 0 ? String(value) : value.toFixed(1);
      unit = units[i];
    } else if (Number.isFinite(value) && !Number.isInteger(value)) {
      // Four significant digits, but never exponent notation (toPrecision gives "2.736e+5"
      // for an uptime of 273600.5 s): large values are shown as whole numbers.
      value = Math.abs(value) >= 1000 ? String(Math.round(value)) : value.toPrecision(4);
    }
    return name + ' = ' + value + (unit ? (unit === '%' ? '' : ' ') + unit : '');
  }

  function metricsCell(metrics) {
    const cell = el('td', { class: 'metrics' });
    if (!metrics || metrics.length === 0) {
      cell.appendChild(document.createTextNode('\u2014'));
      return cell;
    }
    const list = el('ul');
    for (const m of metrics.slice(0, 3)) list.appendChild(el('li', { text: metricText(m) }));
    cell.appendChild(list);
    if (metrics.length > 3) cell.appendChild(el('div', { class: 'sub', text: '+' + (metrics.length - 3) + ' more' }));
    return cell;
  }

  function renderHost(host, checks) {
    const now = parseTime(checks.server_time) || parseTime(host.server_time) || Date.now();
    $('host-title').textContent = host.hostname || host.id;
    const status = $('host-status');
    clear(status);
    status.appendChild(badge(host.worst_status));
    const lastSeen = parseTime(host.last_seen);
    const age = lastSeen === null ? null : now - lastSeen;
    const stale = age === null || age > STALE_AFTER_MS;
    status.appendChild(el('span', { class: stale ? 'age-stale' : null, text: ' last report ' + formatAge(age) + (stale ? ' (stale)' : '') }));

    const meta = $('host-meta');
    clear(meta);
    const fields = [
      ['Agent id', host.id],
      ['Operating system', host.os],
      ['Kernel', host.kernel],
      ['Architecture', host.arch],
      ['Agent version', host.agent_version],
      ['Enrolled', host.enrolled_at ? new Date(parseTime(host.enrolled_at)).toLocaleString() : null],
    ];
    for (const [label, value] of fields) {
      meta.appendChild(el('div', null, el('dt', { text: label }), el('dd', { text: value || '\u2014' })));
    }

    const body = $('checks-body');
    clear(body);
    const items = (checks.items || []).slice().sort((a, b) =>
      (STATUS[b.status] ? STATUS[b.status].rank : 0) - (STATUS[a.status] ? STATUS[a.status].rank : 0) ||
      a.check.localeCompare(b.check) || a.target.localeCompare(b.target));
    for (const c of items) {
      const observed = parseTime(c.observed_at);
      const observedAge = observed === null ? null : now - observed;
      const old = observedAge === null || observedAge > STALE_AFTER_MS;
      body.appendChild(el('tr', { class: old ? 'stale' : null },
        el('th', { scope: 'row', text: c.check }),
        el('td', { class: 'mono', text: c.target === '' ? '\u2014' : c.target }),
        el('td', null, badge(c.status)),
        el('td', { class: 'summary-cell', text: c.summary || '' }),
        el('td', { class: old ? 'age age-stale' : 'age' },
          el('time', { datetime: observed === null ? null : new Date(observed).toISOString(),
                       title: observed === null ? null : new Date(observed).toLocaleString() }, formatAge(observedAge))),
        metricsCell(c.metrics)));
    }
    $('checks-empty').hidden = items.length !== 0;
  }

  // ----- actions asked of a host's agent ---------------------------------------------------

  // How an action's state looks: the word, with a badge colour that is never the only signal.
  const ACTION_STATE = {
    pending: { label: 'Pending', badge: 'unknown' },
    delivered: { label: 'Delivered', badge: 'unknown' },
    running: { label: 'Running', badge: 'warning' },
    succeeded: { label: 'Succeeded', badge: 'ok' },
    failed: { label: 'Failed', badge: 'critical' },
    refused: { label: 'Refused', badge: 'critical' },
    expired: { label: 'Expired', badge: 'critical' },
  };
  const ACTION_NAME = { emergency_backup: 'Emergency backup' };

  function renderActions(host, data, now) {
    const body = $('actions-body');
    clear(body);
    const items = (data && data.items) || [];
    for (const a of items) {
      const requested = parseTime(a.requested_at);
      const s = ACTION_STATE[a.state] || { label: a.state, badge: 'none' };
      const name = (ACTION_NAME[a.action] || a.action) + (a.params && a.params.job ? ' (job ' + a.params.job + ')' : '');
      body.appendChild(el('tr', { 'data-id': a.id },
        el('td', { class: 'age' },
          el('time', { datetime: requested === null ? null : new Date(requested).toISOString(),
                       title: requested === null ? null : new Date(requested).toLocaleString() },
             formatAge(requested === null ? null : now - requested))),
        el('td', { text: name }),
        el('td', { text: a.requested_by || '\u2014' }),
        el('td', { class: 'summary-cell', text: a.reason || '' }),
        el('td', null, el('span', { class: 'badge badge-' + s.badge + ' action-state', text: s.label })),
        el('td', { class: 'summary-cell', text: a.summary || '' })));
    }
    $('actions-empty').hidden = items.length !== 0;
    $('emergency-open').hidden = !canOperate();
    $('emergency-host').textContent = host.hostname || host.id;
  }

  function openEmergencyDialog() {
    $('emergency-job').value = '';
    $('emergency-reason').value = '';
    formError('emergency-error', '');
    $('emergency-dialog').showModal();
    $('emergency-reason').focus();
  }

  async function onEmergencyBackup(ev) {
    ev.preventDefault();
    const route = currentRoute();
    if (route.view !== 'host') return;
    const body = { action: 'emergency_backup', reason: $('emergency-reason').value.trim() };
    const job = $('emergency-job').value.trim();
    if (job) body.params = { job };
    $('emergency-submit').disabled = true;
    let r;
    try {
      r = await sendJson('POST', '/api/v1/hosts/' + encodeURIComponent(route.host) + '/actions', body);
    } catch (e) {
      formError('emergency-error', 'Cannot reach the collector: ' + e.message);
      return;
    } finally {
      $('emergency-submit').disabled = false;
    }
    if (!r.ok) {
      formError('emergency-error', errorOf(r).message);
      return;
    }
    $('emergency-dialog').close();
    refresh();
  }

  // ----- alerts ----------------------------------------------------------------------------

  const SEVERITY = {
    critical: { label: 'Critical', symbol: '\u2716', badge: 'critical', rank: 0 },
    major: { label: 'Major', symbol: '\u2716', badge: 'major', rank: 1 },
    warning: { label: 'Warning', symbol: '!', badge: 'warning', rank: 2 },
    info: { label: 'Info', symbol: 'i', badge: 'unknown', rank: 3 },
  };

  function severityBadge(severity) {
    const s = SEVERITY[severity] || SEVERITY.info;
    return el('span', { class: 'badge badge-' + s.badge },
      el('span', { class: 'badge-symbol', 'aria-hidden': 'true', text: s.symbol }), ' ' + s.label);
  }

  // Whether the person may acknowledge and comment (the API checks it again).
  function canOperate() {
    if (!session || !session.roles) return true;
    return session.roles.some((r) => r === 'admin' || r === 'unit_admin' || r === 'operator');
  }

  function alertName(a) {
    return (a.labels && a.labels.alertname) || a.rule;
  }

  function ackInEffect(a) {
    return !!(a.acknowledgement && a.acknowledgement.in_effect);
  }

  function renderAlertCount(firing) {
    const open = firing.filter((a) => !ackInEffect(a)).length;
    $('alerts-count').textContent = open > 0 ? String(open) : '';
    $('nav-alerts').setAttribute('aria-label', 'Alerts' + (open > 0 ? ', ' + open + ' firing unacknowledged' : ''));
  }

  async function refreshAlerts(fingerprint) {
    const doc = await getJson('/api/v1/alerts?state=active&limit=1000');
    const items = doc.items || [];
    renderAlertCount(items.filter((a) => a.state === 'firing'));
    renderAlerts(items, fingerprint);
    if (!fingerprint) {
      $('alert-detail').hidden = true;
      return;
    }
    // The newest episode of that alert, active or not.
    const found = await getJson('/api/v1/alerts?fingerprint=' + encodeURIComponent(fingerprint) + '&limit=1');
    if (!found.items || found.items.length === 0) {
      $('alert-detail').hidden = false;
      $('alert-detail-title').textContent = 'Unknown alert';
      clear($('alert-detail-summary'));
      clear($('alert-detail-meta'));
      clear($('alert-history'));
      $('comment-form').hidden = true;
      return;
    }
    renderAlertDetail(await getJson('/api/v1/alerts/' + found.items[0].id));
  }

  function renderAlerts(items, focus) {
    const now = Date.now();
    items.sort((a, b) => {
      const ra = (SEVERITY[a.severity] || SEVERITY.info).rank;
      const rb = (SEVERITY[b.severity] || SEVERITY.info).rank;
      if (ra !== rb) return ra - rb;
      if (ackInEffect(a) !== ackInEffect(b)) return ackInEffect(a) ? 1 : -1;
      return (parseTime(b.active_since) || 0) - (parseTime(a.active_since) || 0);
    });
    const body = $('alerts-body');
    clear(body);
    let firing = 0;
    let acked = 0;
    for (const a of items) {
      if (a.state === 'firing') firing++;
      if (ackInEffect(a)) acked++;
      const since = parseTime(a.state === 'firing' ? a.firing_since : a.active_since);
      const labels = a.labels || {};
      const summary = (a.annotations && a.annotations.summary) || '';
      const stateCell = el('td', { class: 'age' }, a.state === 'firing' ? 'Firing ' : 'Pending ',
        el('time', { datetime: since === null ? null : new Date(since).toISOString(),
                     title: since === null ? null : new Date(since).toLocaleString() },
           since === null ? '' : 'since ' + formatAge(now - since)));
      let ackCell;
      if (a.acknowledgement && a.acknowledgement.in_effect) {
        const until = parseTime(a.acknowledgement.expires_at);
        ackCell = el('td', { class: 'ack' }, 'by ' + a.acknowledgement.by,
          until === null ? null : el('span', { class: 'sub' }, ' until ' + new Date(until).toLocaleString()),
          a.acknowledgement.comment ? el('div', { class: 'sub' }, a.acknowledgement.comment) : null);
      } else {
        ackCell = el('td', { class: 'ack' }, '\u2014');
      }
      const actions = el('td', { class: 'actions' });
      if (canOperate()) {
        if (ackInEffect(a)) {
          const b = el('button', { type: 'button', class: 'unack-button', text: 'Unacknowledge' });
          b.addEventListener('click', () => unacknowledge(a));
          actions.appendChild(b);
        } else {
          const b = el('button', { type: 'button', class: 'ack-button', text: 'Acknowledge' });
          b.addEventListener('click', () => openAckDialog(a));
          actions.appendChild(b);
        }
      }
      const row = el('tr', { class: 'alert-row' + (ackInEffect(a) ? ' acked' : '') + (a.fingerprint === focus ? ' focused' : ''),
                             'data-id': a.id, 'data-fingerprint': a.fingerprint },
        el('td', null, severityBadge(a.severity)),
        el('th', { scope: 'row' },
          el('a', { href: '#/alerts/' + a.fingerprint, class: 'alert-link', text: alertName(a) }),
          summary ? el('div', { class: 'sub summary-text' }, summary) : null),
        el('td', { class: 'host-cell' }, labels.host || labels.agent_id || '\u2014',
          labels.target ? el('div', { class: 'sub' }, (labels.check ? labels.check + ' ' : '') + labels.target) : null),
        stateCell, ackCell, actions);
      body.appendChild(row);
    }
    $('alerts-empty').hidden = items.length !== 0;
    const s = $('alerts-summary');
    clear(s);
    s.appendChild(document.createTextNode(items.length + ' active \u00b7 ' + firing + ' firing \u00b7 ' +
      (items.length - firing) + ' pending \u00b7 ' + acked + ' acknowledged'));
  }

  // Only http(s) links from annotations become links; anything else stays text.
  function safeUrl(text) {
    try {
      const u = new URL(text);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function renderAlertDetail(a) {
    $('alert-detail').hidden = false;
    $('alert-detail').dataset.id = a.id;
    $('alert-detail-title').textContent = alertName(a) + ' \u2014 ' + a.state;
    const summary = $('alert-detail-summary');
    clear(summary);
    summary.appendChild(severityBadge(a.severity));
    if (a.annotations && a.annotations.summary) summary.appendChild(document.createTextNode(a.annotations.summary));
    const meta = $('alert-detail-meta');
    clear(meta);
    const add = (term, value) => {
      meta.appendChild(el('dt', null, term));
      meta.appendChild(el('dd', null, value));
    };
    for (const [k, v] of Object.entries(a.labels || {})) add(k, v);
    if (a.annotations && a.annotations.description) add('description', a.annotations.description);
    if (a.annotations && a.annotations.runbook_url) {
      const url = safeUrl(a.annotations.runbook_url);
      add('runbook', url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: a.annotations.runbook_url })
        : a.annotations.runbook_url);
    }
    if (a.assignee) add('assigned to', a.assignee);
    const history = $('alert-history');
    clear(history);
    for (const e of a.history || []) {
      const at = parseTime(e.at);
      history.appendChild(el('li', { class: 'history-' + e.kind },
        el('time', { datetime: at === null ? null : new Date(at).toISOString() }, at === null ? '' : new Date(at).toLocaleString()),
        ' ' + e.kind.replace(/_/g, ' ') + ' by ' + e.actor, e.comment ? ': ' + e.comment : ''));
    }
    $('comment-form').hidden = !canOperate();
  }

  let ackTarget = null;

  function openAckDialog(a) {
    ackTarget = a;
    $('ack-alert').textContent = alertName(a) + ((a.labels && a.labels.host) ? ' on ' + a.labels.host : '');
    $('ack-comment').value = '';
    $('ack-expires').value = '';
    formError('ack-error', '');
    $('ack-dialog').showModal();
    $('ack-comment').focus();
  }

  async function onAcknowledge(ev) {
    ev.preventDefault();
    if (!ackTarget) return;
    const body = {};
    if ($('ack-comment').value.trim()) body.comment = $('ack-comment').value.trim();
    if ($('ack-expires').value) body.expires_in = $('ack-expires').value;
    $('ack-submit').disabled = true;
    let r;
    try {
      r = await sendJson('POST', '/api/v1/alerts/' + ackTarget.id + '/acknowledge', body);
    } catch (e) {
      formError('ack-error', 'Cannot reach the collector: ' + e.message);
      return;
    } finally {
      $('ack-submit').disabled = false;
    }
    if (!r.ok) {
      formError('ack-error', errorOf(r).message);
      return;
    }
    ackTarget = null;
    $('ack-dialog').close();
    refresh();
  }

  async function unacknowledge(a) {
    const r = await sendJson('POST', '/api/v1/alerts/' + a.id + '/unacknowledge', {});
    if (!r.ok) showError(errorOf(r).message);
    refresh();
  }

  async function onComment(ev) {
    ev.preventDefault();
    const id = $('alert-detail').dataset.id;
    const text = $('comment-text').value.trim();
    if (!id || !text) return;
    $('comment-submit').disabled = true;
    let r;
    try {
      r = await sendJson('POST', '/api/v1/alerts/' + id + '/comments', { comment: text });
    } catch (e) {
      formError('comment-error', 'Cannot reach the collector: ' + e.message);
      return;
    } finally {
      $('comment-submit').disabled = false;
    }
    if (!r.ok) {
      formError('comment-error', errorOf(r).message);
      return;
    }
    formError('comment-error', '');
    $('comment-text').value = '';
    refresh();
  }

  // ----- navigation and refresh ------------------------------------------------------------

  // '' -> hosts; '#host=ID' -> a host; '#alerts' -> alerts; '#/alerts/FINGERPRINT' -> alerts with
  // that one opened (the links in notifications point there).
  function currentRoute() {
    const hash = window.location.hash;
    if (hash === '#alerts') return { view: 'alerts', fingerprint: null };
    let match = /^#\/alerts\/([0-9a-fA-F]{1,64})$/.exec(hash);
    if (match) return { view: 'alerts', fingerprint: match[1].toLowerCase() };
    match = /^#host=(.+)$/.exec(hash);
    if (match) {
      try {
        return { view: 'host', host: decodeURIComponent(match[1]) };
      } catch (e) {
        return { view: 'hosts' };
      }
    }
    return { view: 'hosts' };
  }

  function showView(route) {
    $('hosts-view').hidden = route.view !== 'hosts';
    $('host-view').hidden = route.view !== 'host';
    $('alerts-view').hidden = route.view !== 'alerts';
    const onAlerts = route.view === 'alerts';
    if (onAlerts) $('nav-alerts').setAttribute('aria-current', 'page');
    else $('nav-alerts').removeAttribute('aria-current');
    if (!onAlerts) $('nav-hosts').setAttribute('aria-current', 'page');
    else $('nav-hosts').removeAttribute('aria-current');
  }

  async function refresh() {
    if (!session) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    const route = currentRoute();
    const hostId = route.view === 'host' ? route.host : null;
    showView(route);
    try {
      if (route.view === 'alerts') {
        await refreshAlerts(route.fingerprint);
        document.title = 'Alerts \u2014 Steadfast';
      } else if (hostId === null) {
        const [hosts, firing] = await Promise.all([fetchAllHosts(), getJson('/api/v1/alerts?state=firing&limit=1000')]);
        renderHosts(hosts);
        renderAlertCount(firing.items || []);
        document.title = 'Hosts \u2014 Steadfast';
      } else {
        const id = encodeURIComponent(hostId);
        const [host, checks, actions] = await Promise.all([
          getJson('/api/v1/hosts/' + id), getJson('/api/v1/hosts/' + id + '/checks'),
          getJson('/api/v1/hosts/' + id + '/actions?limit=20')]);
        renderHost(host, checks);
        renderActions(host, actions, parseTime(checks.server_time) || Date.now());
        document.title = (host.hostname || host.id) + ' \u2014 Steadfast';
      }
      hideError();
      setUpdated(Date.now());
    } catch (e) {
      if (e.status === 401) {
        needLogin();
      } else if (e.code === 'password_change_required') {
        showAuth('password');
      } else if (hostId !== null && e.status === 404) {
        $('host-title').textContent = 'Unknown host';
        clear($('checks-body'));
        clear($('host-meta'));
        clear($('host-status'));
        clear($('actions-body'));
        $('checks-empty').hidden = false;
        hideError();
      } else {
        showError(e.message);
      }
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function schedule() {
    if (timer !== null) clearInterval(timer);
    timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
  }

  function start() {
    $('stale-after').textContent = formatDuration(STALE_AFTER_MS);
    $('home-link').addEventListener('click', (ev) => {
      ev.preventDefault();
      window.location.hash = '';
    });
    window.addEventListener('hashchange', refresh);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refresh();
    });
    $('login-form').addEventListener('submit', onLogin);
    $('password-form').addEventListener('submit', onPasswordChange);
    $('logout').addEventListener('click', onLogout);
    $('ack-form').addEventListener('submit', onAcknowledge);
    $('ack-cancel').addEventListener('click', () => $('ack-dialog').close());
    $('comment-form').addEventListener('submit', onComment);
    $('emergency-open').addEventListener('click', openEmergencyDialog);
    $('emergency-form').addEventListener('submit', onEmergencyBackup);
    $('emergency-cancel').addEventListener('click', () => $('emergency-dialog').close());
    loadSession().then((ok) => {
      if (ok) {
        refresh();
        schedule();
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
