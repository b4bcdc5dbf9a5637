/* iocmap — the sheet upload page (/upload): dry run, report table, confirm, apply.
 * Posts to the existing /api/v1/imports/{tasks|indicators} with the user's token, so the
 * API's scope rules and report are the page's. The token lives in sessionStorage only. */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});
  var KEY = 'iocmap.token';
  // the clerk's header decisions ({"file header": "field" | ""}), remembered per browser so
  // the office's next sheet with the same headers is mapped the same way
  var COLUMNS_KEY = 'iocmap.columns';

  function $(id) { return document.getElementById(id); }

  IOC.initUpload = function () {
    var cfg = IOC.config();
    var S = cfg.strings;
    var form = $('up-form');
    var token = $('up-token');
    var file = $('up-file');
    var msg = $('up-msg');
    var out = $('up-report');
    var confirmRow = $('up-confirm');
    var box = $('up-confirm-box');
    var rejectsUrl = null;
    var checked = null;  // the request the last good dry run answered
    var pending = {};  // header → field chosen on this report ('' = ignore), not yet re-checked

    function savedColumns() {
      try { return JSON.parse(global.localStorage.getItem(COLUMNS_KEY) || '{}') || {}; } catch (e) { return {}; }
    }
    function saveColumns(map) {
      try { global.localStorage.setItem(COLUMNS_KEY, JSON.stringify(map)); } catch (e) { /* private mode */ }
    }

    try { token.value = global.sessionStorage.getItem(KEY) || ''; } catch (e) { /* private mode */ }
    token.addEventListener('change', function () {
      try { global.sessionStorage.setItem(KEY, token.value.trim()); } catch (e) { /* ignore */ }
    });
    $('up-forget').addEventListener('click', function () {
      token.value = '';
      try { global.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
      token.focus();
    });
    [file, token, $('up-move')].concat(Array.prototype.slice.call(form.querySelectorAll('input[name=kind]')))
      .forEach(function (el) { el.addEventListener('change', reset); });

    function reset() {
      checked = null;
      confirmRow.hidden = true;
      box.hidden = true;
    }

    function say(text) {
      msg.hidden = !text;
      msg.textContent = text || '';
    }

    function kind() { return form.querySelector('input[name=kind]:checked').value; }

    function url(dry) {
      var q = ['dry_run=' + (dry ? 'true' : 'false')];
      var period = $('up-period').value.trim();
      var sheet = $('up-sheet').value.trim();
      if (period && kind() === 'indicators') q.push('period=' + encodeURIComponent(period));
      if (sheet) q.push('sheet=' + encodeURIComponent(sheet));
      q.push('lang=' + encodeURIComponent(cfg.lang === 'en' ? 'en' : 'vi'));
      if (kind() === 'tasks' && $('up-move').checked) q.push('move_units=true');
      return cfg.api + '/imports/' + kind() + '?' + q.join('&');
    }

    function send(dry) {
      var t = token.value.trim();
      if (!t) { say(S.need_token); token.focus(); return Promise.resolve(); }
      if (!file.files.length) { say(S.need_file); file.focus(); return Promise.resolve(); }
      try { global.sessionStorage.setItem(KEY, t); } catch (e) { /* ignore */ }
      var body = new FormData();
      body.append('file', file.files[0], file.files[0].name);
      // the office's saved header mapping goes in the form body (it may outgrow a URL)
      var cols = savedColumns();
      if (kind() === 'tasks' && Object.keys(cols).length) body.append('columns', JSON.stringify(cols));
      say(S.working);
      document.body.dataset.state = 'working';
      var req = url(dry);
      return fetch(req, { method: 'POST', body: body, headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
        })
        .then(function (res) {
          if (res.status === 200) {
            say('');
            render(res.body, dry ? 'dry' : 'done');
            var undecided = undecidedColumns(res.body);
            checked = dry && res.body.changed && !undecided.length ? req.replace('dry_run=true', 'dry_run=false') : null;
            confirmRow.hidden = !checked;
            box.hidden = true;
            if (dry && undecided.length) say(S.columns_decide);
            document.body.dataset.state = dry ? (undecided.length ? 'columns' : 'checked') : 'applied';
          } else if (res.status === 422 && res.body.report) {
            say(S.report_rejected);
            render(res.body.report, 'rejected');
            reset();
            document.body.dataset.state = 'rejected';
          } else {
            var known = { 401: S.err_401, 403: S.err_403, 409: S.err_409, 413: S.err_413 }[res.status];
            say((known || S.err_other) + (res.body.detail ? ' (' + res.body.detail + ')' : ''));
            out.hidden = true;
            reset();
            document.body.dataset.state = 'refused-' + res.status;
          }
        })
        .catch(function () {
          say(S.err_other);
          reset();
          document.body.dataset.state = 'error';
        });
    }

    function cell(v) { return '<td>' + IOC.esc(v === null || v === undefined ? '—' : v) + '</td>'; }
    function num(v) { return '<td class="num">' + IOC.esc(IOC.fmt(v || 0, 0)) + '</td>'; }

    function problemsTable(title, list, cls) {
      if (!list.length) return '';
      return '<h3>' + IOC.esc(title) + ' (' + IOC.fmt(list.length, 0) + ')</h3><table class="problems ' + cls + '">' +
        '<thead><tr><th class="num">' + IOC.esc(S.row) + '</th><th>' + IOC.esc(S.column) + '</th><th>' + IOC.esc(S.code) +
        '</th><th>' + IOC.esc(S.value) + '</th><th>' + IOC.esc(S.reason) + '</th><th>' + IOC.esc(S.expected) + '</th></tr></thead><tbody>' +
        list.map(function (p) {
          return '<tr data-row="' + IOC.esc(p.row) + '"><td class="num">' + IOC.esc(p.row === null || p.row === undefined ? '—' : p.row) +
            '</td>' + cell(p.field) + cell(p.code) + cell(p.value) + cell(p.reason) + cell(p.expected) + '</tr>';
        }).join('') + '</tbody></table>';
    }

    /** The problems as a CSV the officer opens in Excel (UTF-8 with BOM); every cell
     *  neutralised: codes and values come from the uploaded file (=HYPERLINK(…)). */
    function rejectsCsv(rep, list) {
      var q = function (v) { return '"' + IOC.spreadsheetCell(v).replace(/"/g, '""') + '"'; };
      var lines = [[S.row, S.column, S.code, S.value, S.reason, S.expected].map(q).join(',')];
      list.forEach(function (p) { lines.push([p.row, p.field, p.code, p.value, p.reason, p.expected].map(q).join(',')); });
      if (rejectsUrl) URL.revokeObjectURL(rejectsUrl);
      rejectsUrl = URL.createObjectURL(new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' }));
      var base = String(rep.file || 'bang_tinh').replace(/\.[^.]+$/, '');
      return '<p><a class="btn" id="up-rejects" href="' + rejectsUrl + '" download="' + IOC.esc(base) + '_loi.csv">' +
        IOC.esc(S.rejects) + '</a></p>';
    }

    /** Ignored headers that look like a field and nobody decided about: apply waits. */
    function undecidedColumns(rep) {
      return (rep.columns || []).filter(function (c) { return c.warn; });
    }

    function fieldOptions(selected) {
      var fields = cfg.fields || {};
      var html = '<option value="?">' + IOC.esc(S.columns_choose) + '</option>' +
        '<option value=""' + (selected === '' ? ' selected' : '') + '>' + IOC.esc(S.columns_ignore) + '</option>';
      Object.keys(fields).forEach(function (f) {
        html += '<option value="' + IOC.esc(f) + '"' + (selected === f ? ' selected' : '') + '>' +
          IOC.esc(fields[f]) + ' (' + IOC.esc(f) + ')</option>';
      });
      return html;
    }

    function columnsTable(rep) {
      var cols = rep.columns || [];
      if (!cols.length) return '';
      var rows = cols.map(function (c, i) {
        var state, what;
        if (c.status === 'used') {
          state = c.by === 'mapping' ? S.columns_mapped : S.columns_used;
          what = IOC.esc(c.label || c.field);
        } else {
          state = c.confirmed ? S.columns_ignored_ok : S.columns_ignored;
          what = c.likely ? IOC.esc(S.columns_likely) + ' ' + IOC.esc(c.label || c.likely) : '—';
          if (c.warn) {
            what += ' <label class="sr-only" for="up-col-' + i + '">' + IOC.esc(c.header) + '</label>' +
              '<select id="up-col-' + i + '" class="up-col" data-header="' + IOC.esc(c.header) + '">' +
              fieldOptions(pending.hasOwnProperty(c.header) ? pending[c.header] : '?') + '</select>';
          }
        }
        return '<tr class="' + (c.warn ? 'warn' : c.status) + '" data-header="' + IOC.esc(c.header) + '"><td>' +
          IOC.esc(c.header) + '</td><td>' + IOC.esc(state) + '</td><td>' + what + '</td></tr>';
      }).join('');
      var undecided = undecidedColumns(rep).length;
      return '<h3>' + IOC.esc(S.columns) + '</h3>' +
        (undecided ? '<p class="up-warn">' + IOC.esc(S.columns_decide) + '</p>' : '') +
        '<table class="columns"><thead><tr><th>' + IOC.esc(S.column) + '</th><th>' + IOC.esc(S.columns_state) +
        '</th><th>' + IOC.esc(S.columns_field) + '</th></tr></thead><tbody>' + rows + '</tbody></table>' +
        (undecided ? '<p><button type="button" class="btn primary" id="up-recheck" disabled>' + IOC.esc(S.columns_recheck) + '</button></p>' : '');
    }

    function matchesTable(rep) {
      var list = rep.matches || [];
      if (!list.length) return '';
      var counts = {};
      list.forEach(function (m) { counts[m.label] = (counts[m.label] || 0) + 1; });
      var summary = Object.keys(counts).map(function (k) { return k + ': ' + IOC.fmt(counts[k], 0); }).join(' · ');
      var shown = list.filter(function (m) { return m.match !== 'code' || m.suggestion; }).slice(0, 500);
      var html = '<h3>' + IOC.esc(S.matches) + '</h3><p id="up-match-summary">' + IOC.esc(summary) + '</p>';
      if (!shown.length) return html;
      return html + '<table class="matches"><thead><tr><th class="num">' + IOC.esc(S.row) + '</th><th>' + IOC.esc(S.code) +
        '</th><th>' + IOC.esc(S.matches_how) + '</th><th>' + IOC.esc(S.matches_task) + '</th></tr></thead><tbody>' +
        shown.map(function (m) {
          var stored = m.task || (m.suggestion ? S.matches_suggest + ' ' + m.suggestion : null);
          return '<tr data-row="' + IOC.esc(m.row) + '"><td class="num">' + IOC.esc(m.row) + '</td>' + cell(m.code) +
            cell(m.label) + cell(stored) + '</tr>';
        }).join('') + '</tbody></table>';
    }

    function wireColumns() {
      var selects = out.querySelectorAll('select.up-col');
      var recheck = $('up-recheck');
      if (!selects.length || !recheck) return;
      function update() {
        var all = true;
        Array.prototype.forEach.call(selects, function (sel) {
          if (sel.value === '?') { all = false; delete pending[sel.dataset.header]; } else pending[sel.dataset.header] = sel.value;
        });
        recheck.disabled = !all;
      }
      Array.prototype.forEach.call(selects, function (sel) { sel.addEventListener('change', update); });
      recheck.addEventListener('click', function () {
        var map = savedColumns();
        Object.keys(pending).forEach(function (h) { map[h] = pending[h]; });
        saveColumns(map);
        pending = {};
        send(true);
      });
      update();
    }

    function render(rep, mode) {
      var problems = (rep.errors || []).concat(rep.rejected || []);
      var title = mode === 'dry' ? S.report_dry : (mode === 'done' ? S.report_done : S.report_rejected);
      var html = '<h2 id="up-report-title" tabindex="-1">' + IOC.esc(title) + ' · ' + IOC.esc(rep.file || '') + '</h2>' +
        '<table class="counts"><tbody>' +
        '<tr><th>' + IOC.esc(S.read) + '</th>' + num(rep.read) + '</tr>' +
        '<tr><th>' + IOC.esc(S.created) + '</th>' + num(rep.created) + '</tr>' +
        '<tr><th>' + IOC.esc(S.updated) + '</th>' + num(rep.updated) + '</tr>' +
        '<tr><th>' + IOC.esc(S.unchanged) + '</th>' + num(rep.unchanged) + '</tr>' +
        '<tr><th>' + IOC.esc(S.rejected) + '</th>' + num(rep.rejected_count) + '</tr>' +
        (mode === 'done' && rep.version ? '<tr><th>' + IOC.esc(S.version) + '</th>' + num(rep.version) + '</tr>' : '') +
        '</tbody></table>';
      if (rep.status === 'no_changes') html += '<p class="muted">' + IOC.esc(S.no_changes) + '</p>';
      // column warnings first: a header nobody decided about is the first thing to settle
      var warnings = (rep.warnings || []).slice().sort(function (a, b) {
        return (a.row === null || a.row === undefined ? 0 : 1) - (b.row === null || b.row === undefined ? 0 : 1);
      });
      html += problemsTable(S.warnings, warnings, 'warnings');
      html += columnsTable(rep);
      html += problemsTable(S.problems, problems, 'errors');
      html += matchesTable(rep);
      if (problems.length) html += rejectsCsv(rep, problems);
      out.innerHTML = html;
      out.hidden = false;
      out.dataset.mode = mode;
      wireColumns();
      $('up-report-title').focus();
    }

    form.addEventListener('submit', function (e) { e.preventDefault(); send(true); });
    $('up-apply').addEventListener('click', function () { box.hidden = false; $('up-confirm-yes').focus(); });
    $('up-confirm-no').addEventListener('click', function () { box.hidden = true; $('up-apply').focus(); });
    $('up-confirm-yes').addEventListener('click', function () { if (checked) send(false); });
    document.documentElement.dataset.uploadReady = '1';
  };

  document.addEventListener('DOMContentLoaded', IOC.initUpload);
})(window);
