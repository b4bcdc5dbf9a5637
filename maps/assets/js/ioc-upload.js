/* iocmap — the sheet upload page (/upload): dry run, report table, confirm, apply.
 * Posts to the existing /api/v1/imports/{tasks|indicators} with the user's token, so the
 * API's scope rules and report are the page's. The token lives in sessionStorage only. */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});
  var KEY = 'iocmap.token';

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

    try { token.value = global.sessionStorage.getItem(KEY) || ''; } catch (e) { /* private mode */ }
    token.addEventListener('change', function () {
      try { global.sessionStorage.setItem(KEY, token.value.trim()); } catch (e) { /* ignore */ }
    });
    $('up-forget').addEventListener('click', function () {
      token.value = '';
      try { global.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
      token.focus();
    });
    [file, token].concat(Array.prototype.slice.call(form.querySelectorAll('input[name=kind]')))
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
      return cfg.api + '/imports/' + kind() + '?' + q.join('&');
    }

    function send(dry) {
      var t = token.value.trim();
      if (!t) { say(S.need_token); token.focus(); return Promise.resolve(); }
      if (!file.files.length) { say(S.need_file); file.focus(); return Promise.resolve(); }
      try { global.sessionStorage.setItem(KEY, t); } catch (e) { /* ignore */ }
      var body = new FormData();
      body.append('file', file.files[0], file.files[0].name);
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
            checked = dry && res.body.changed ? req.replace('dry_run=true', 'dry_run=false') : null;
            confirmRow.hidden = !checked;
            box.hidden = true;
            document.body.dataset.state = dry ? 'checked' : 'applied';
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
        '</th><th>' + IOC.esc(S.value) + '</th><th>' + IOC.esc(S.reason) + '</th></tr></thead><tbody>' +
        list.map(function (p) {
          return '<tr data-row="' + IOC.esc(p.row) + '"><td class="num">' + IOC.esc(p.row === null || p.row === undefined ? '—' : p.row) +
            '</td>' + cell(p.field) + cell(p.code) + cell(p.value) + cell(p.reason) + '</tr>';
        }).join('') + '</tbody></table>';
    }

    /** The problems as a CSV the officer opens in Excel (UTF-8 with BOM); every cell
     *  neutralised: codes and values come from the uploaded file (=HYPERLINK(…)). */
    function rejectsCsv(rep, list) {
      var q = function (v) { return '"' + IOC.spreadsheetCell(v).replace(/"/g, '""') + '"'; };
      var lines = [[S.row, S.column, S.code, S.value, S.reason].map(q).join(',')];
      list.forEach(function (p) { lines.push([p.row, p.field, p.code, p.value, p.reason].map(q).join(',')); });
      if (rejectsUrl) URL.revokeObjectURL(rejectsUrl);
      rejectsUrl = URL.createObjectURL(new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' }));
      var base = String(rep.file || 'bang_tinh').replace(/\.[^.]+$/, '');
      return '<p><a class="btn" id="up-rejects" href="' + rejectsUrl + '" download="' + IOC.esc(base) + '_loi.csv">' +
        IOC.esc(S.rejects) + '</a></p>';
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
      html += problemsTable(S.problems, problems, 'errors');
      html += problemsTable(S.warnings, rep.warnings || [], 'warnings');
      if (problems.length) html += rejectsCsv(rep, problems);
      out.innerHTML = html;
      out.hidden = false;
      out.dataset.mode = mode;
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
