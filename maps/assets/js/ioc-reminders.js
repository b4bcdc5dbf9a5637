/* iocmap — the reminders page (/reminders): preview, confirm, issue, download.
 * Calls POST /api/v1/reminders (a preview: nothing recorded) and then
 * POST /api/v1/reminders/previews/{id}/issue with the user's token, so the API's scope,
 * skip and numbering rules are the page's. The token lives in sessionStorage only. */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});
  var KEY = 'iocmap.token';

  function $(id) { return document.getElementById(id); }

  IOC.initReminders = function () {
    var cfg = IOC.config();
    var S = cfg.strings;
    var form = $('rm-form');
    var token = $('rm-token');
    var msg = $('rm-msg');
    var out = $('rm-report');
    var confirmRow = $('rm-confirm');
    var box = $('rm-confirm-box');
    var previewId = null;

    try { token.value = global.sessionStorage.getItem(KEY) || ''; } catch (e) { /* private mode */ }
    Array.prototype.forEach.call(form.elements, function (el) {
      el.addEventListener('change', reset);
    });

    function reset() {
      previewId = null;
      confirmRow.hidden = true;
      box.hidden = true;
    }

    function say(text) {
      msg.hidden = !text;
      msg.textContent = text || '';
    }

    function fill(tpl, vals) {
      return tpl.replace(/\{(\w+)\}/g, function (_, k) { return vals[k]; });
    }

    function why(n) {
      return (n.reasons || []).map(function (r) {
        if (r.kind === 'overdue') return fill(S.why_overdue, { n: IOC.fmt(r.tasks, 0) });
        return fill(S.why_below, { pct: IOC.fmt(r.completion_pct, 2), limit: IOC.fmt(r.threshold, 0) });
      }).join('; ');
    }

    function call(path, t) {
      return fetch(cfg.api + path, { method: 'POST', headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
        });
    }

    function fail(res) {
      var known = { 401: S.err_401, 403: S.err_403, 409: S.err_409 }[res.status];
      say((known || S.err_other) + (res.body && res.body.detail ? ' (' + res.body.detail + ')' : ''));
      reset();
      document.body.dataset.state = 'refused-' + res.status;
    }

    function query() {
      var q = ['program=' + encodeURIComponent($('rm-program').value)];
      if ($('rm-overdue').checked) q.push('overdue=true');
      var below = $('rm-below').value.trim();
      if (below) q.push('below=' + encodeURIComponent(below));
      q.push('combine=' + encodeURIComponent($('rm-combine').value));
      var prov = $('rm-province').value.trim();
      if (prov) q.push('province=' + encodeURIComponent(prov));
      var agency = $('rm-agency').value.trim().toUpperCase();
      if (agency) q.push('agency=' + encodeURIComponent(agency));
      var reply = $('rm-reply').value;
      if (reply) q.push('reply_by=' + encodeURIComponent(reply));
      if ($('rm-force').checked) q.push('force=true');
      return q.join('&');
    }

    function table(notices, issued) {
      if (!notices.length) return '<p class="muted">' + IOC.esc(S.none) + '</p>';
      var head = (issued ? '<th>' + IOC.esc(S.number) + '</th>' : '') +
        '<th>' + IOC.esc(S.unit) + '</th><th>' + IOC.esc(S.why) + '</th><th class="num">' + IOC.esc(S.tasks) +
        '</th><th class="num">' + IOC.esc(S.round) + '</th>' + (issued ? '<th></th>' : '');
      return '<table class="notices"><thead><tr>' + head + '</tr></thead><tbody>' + notices.map(function (n) {
        return '<tr data-unit="' + IOC.esc(n.unit_code) + '">' +
          (issued ? '<td>' + IOC.esc(n.doc_number) + '</td>' : '') +
          '<td>' + IOC.esc(n.recipient) + '</td><td>' + IOC.esc(why(n)) + '</td>' +
          '<td class="num">' + IOC.esc(IOC.fmt(n.tasks.length, 0)) + '</td><td class="num">' + IOC.esc(n.round) + '</td>' +
          (issued ? '<td><button type="button" class="btn rm-dl" data-id="' + IOC.esc(n.id) + '" data-name="' +
            IOC.esc('cong-van_' + n.doc_number.replace(/\//g, '-') + '_' + n.unit_code + '.docx') + '">' +
            IOC.esc(S.download) + '</button>' +
            (n.reply_url ? ' <a class="rm-reply" href="' + IOC.esc(n.reply_url) + '">' + IOC.esc(S.reply_link) + '</a>' : '') +
            '</td>' : '') + '</tr>';
      }).join('') + '</tbody></table>';
    }

    function show(title, notices, skipped, issued) {
      var html = '<h2 id="rm-title" tabindex="-1">' + IOC.esc(title) + ' · ' + IOC.esc(IOC.fmt(notices.length, 0)) + '</h2>' +
        table(notices, issued);
      if (skipped && skipped.length) {
        html += '<h3>' + IOC.esc(S.skipped) + ' (' + IOC.esc(IOC.fmt(skipped.length, 0)) + ')</h3><ul class="skipped">' +
          skipped.map(function (s) { return '<li>' + IOC.esc(s.unit_name) + ': ' + IOC.esc(s.message) + '</li>'; }).join('') + '</ul>';
      }
      out.innerHTML = html;
      out.hidden = false;
      $('rm-title').focus();
    }

    function answerText(n) {
      if (n.withdrawn) return S.withdrawn;
      if (n.answered) return fill(S.answered, { d: IOC.fmtDate(n.answered_at.slice(0, 10)) });
      return S.not_answered;
    }

    /** Each channel's delivery of a notice, in words ("email: Đã gửi"); "—" when none. */
    function deliveryText(n) {
      var d = n.deliveries || [];
      if (!d.length) return '—';
      return d.map(function (x) { return x.channel + ': ' + (S['st_' + x.status] || x.status); }).join(' · ');
    }

    function list() {
      var t = token.value.trim();
      if (!t) { say(S.need_token); token.focus(); return; }
      try { global.sessionStorage.setItem(KEY, t); } catch (e) { /* ignore */ }
      say(S.working);
      var unit = $('rm-agency').value.trim().toUpperCase() || $('rm-province').value.trim();
      fetch(cfg.api + '/reminders?limit=200' + (unit ? '&unit=' + encodeURIComponent(unit) : ''),
            { headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
        })
        .then(function (res) {
          if (res.status !== 200) return fail(res);
          say('');
          var rows = res.body.reminders || [];
          var html = '<h2 id="rm-title" tabindex="-1">' + IOC.esc(S.list_title) + ' · ' + IOC.esc(IOC.fmt(rows.length, 0)) + '</h2>';
          html += rows.length ? '<table class="notices"><thead><tr><th>' + IOC.esc(S.number) + '</th><th>' + IOC.esc(S.unit) +
            '</th><th>' + IOC.esc(S.reply_by_col) + '</th><th>' + IOC.esc(S.dl_channel) + '</th><th>' + IOC.esc(S.answer) +
            '</th></tr></thead><tbody>' +
            rows.map(function (n) {
              return '<tr data-id="' + IOC.esc(n.id) + '" data-answered="' + (n.answered ? '1' : '0') + '"><td>' + IOC.esc(n.doc_number || '') +
                '</td><td>' + IOC.esc(n.unit_name || n.unit_code) + '</td><td>' + IOC.esc(IOC.fmtDate(n.reply_by)) +
                '</td><td class="rm-delivery">' + IOC.esc(deliveryText(n)) + '</td><td class="rm-answer">' + IOC.esc(answerText(n)) + '</td></tr>';
            }).join('') + '</tbody></table>' : '<p class="muted">' + IOC.esc(S.none) + '</p>';
          out.innerHTML = html;
          out.hidden = false;
          $('rm-title').focus();
          document.body.dataset.state = 'listed';
        }).catch(function () { fail({ status: 0, body: {} }); });
    }

    function preview() {
      var t = token.value.trim();
      if (!t) { say(S.need_token); token.focus(); return; }
      if (!$('rm-overdue').checked && !$('rm-below').value.trim()) { say(S.need_criteria); $('rm-overdue').focus(); return; }
      try { global.sessionStorage.setItem(KEY, t); } catch (e) { /* ignore */ }
      say(S.working);
      document.body.dataset.state = 'working';
      call('/reminders?' + query(), t).then(function (res) {
        if (res.status !== 200) return fail(res);
        say('');
        previewId = res.body.notices.length ? res.body.preview_id : null;
        show(S.preview_title, res.body.notices, res.body.skipped, false);
        confirmRow.hidden = !previewId;
        box.hidden = true;
        document.body.dataset.state = 'previewed';
      }).catch(function () { fail({ status: 0, body: {} }); });
    }

    function issue() {
      if (!previewId) return;
      var t = token.value.trim();
      say(S.working);
      call('/reminders/previews/' + encodeURIComponent(previewId) + '/issue', t).then(function (res) {
        if (res.status !== 200) return fail(res);
        say('');
        reset();
        show(S.issued_title, res.body.notices, [], true);
        document.body.dataset.state = 'issued';
      }).catch(function () { fail({ status: 0, body: {} }); });
    }

    function download(btn) {
      var t = token.value.trim();
      fetch(cfg.api + '/reminders/' + encodeURIComponent(btn.dataset.id) + '.docx', { headers: { Authorization: 'Bearer ' + t } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
        .then(function (blob) {
          var a = document.createElement('a');
          a.href = URL.createObjectURL(blob);
          a.download = btn.dataset.name;
          document.body.appendChild(a);
          a.click();
          setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        })
        .catch(function () { say(S.err_other); });
    }

    function getJson(path, t) {
      return fetch(cfg.api + path, { headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
        });
    }

    function when(d) {
      var at = d.status === 'sent' ? d.sent_at : (d.status === 'dead' ? null : d.next_attempt_at);
      return at ? new Date(at).toLocaleString(cfg.lang === 'en' ? 'en-GB' : 'vi-VN') : '';
    }

    function deliveries(note) {
      var t = token.value.trim();
      if (!t) { say(S.need_token); token.focus(); return; }
      try { global.sessionStorage.setItem(KEY, t); } catch (e) { /* ignore */ }
      var st = $('dl-status').value;
      getJson('/deliveries?limit=100' + (st ? '&status=' + encodeURIComponent(st) : ''), t).then(function (res) {
        if (res.status !== 200) return fail(res);
        say(note || '');
        var rows = res.body.deliveries || [];
        $('dl-list').innerHTML = !rows.length ? '<p class="muted">' + IOC.esc(S.dl_none) + '</p>' :
          '<table class="notices deliveries"><thead><tr><th>' + IOC.esc(S.number) + '</th><th>' + IOC.esc(S.unit) +
          '</th><th>' + IOC.esc(S.dl_channel) + '</th><th>' + IOC.esc(S.dl_status) + '</th><th class="num">' +
          IOC.esc(S.dl_attempts) + '</th><th>' + IOC.esc(S.dl_when) + '</th><th>' + IOC.esc(S.dl_error) +
          '</th><th></th></tr></thead><tbody>' + rows.map(function (d) {
            var retry = d.status === 'dead' || d.status === 'failed';
            return '<tr data-delivery="' + IOC.esc(d.id) + '" data-status="' + IOC.esc(d.status) + '"><td>' +
              IOC.esc(d.doc_number || '') + '</td><td>' + IOC.esc(d.unit_code || d.agency_code || '') + '</td><td>' +
              IOC.esc(d.channel === 'email' ? 'E-mail' : 'Webhook') + '</td><td>' + IOC.esc(S['st_' + d.status] || d.status) +
              '</td><td class="num">' + IOC.esc(d.attempts) + '</td><td>' + IOC.esc(when(d)) + '</td><td>' +
              IOC.esc(d.last_error || '') + '</td><td>' + (retry ? '<button type="button" class="btn dl-retry" data-id="' +
              IOC.esc(d.id) + '">' + IOC.esc(S.dl_retry) + '</button>' : '') + '</td></tr>';
          }).join('') + '</tbody></table>';
        document.body.dataset.deliveries = 'loaded';
      }).catch(function () { fail({ status: 0, body: {} }); });
    }

    function retry(btn) {
      var t = token.value.trim();
      call('/deliveries/' + encodeURIComponent(btn.dataset.id) + '/retry', t).then(function (res) {
        if (res.status === 403) { say(S.err_403_retry); return; }
        if (res.status !== 200) return fail(res);
        deliveries(S.dl_retried);
      }).catch(function () { fail({ status: 0, body: {} }); });
    }

    $('dl-load').addEventListener('click', function () { deliveries(); });
    $('dl-list').addEventListener('click', function (e) {
      var btn = e.target.closest && e.target.closest('.dl-retry');
      if (btn) retry(btn);
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); preview(); });
    $('rm-list').addEventListener('click', list);
    $('rm-issue').addEventListener('click', function () { box.hidden = false; $('rm-confirm-yes').focus(); });
    $('rm-confirm-no').addEventListener('click', function () { box.hidden = true; $('rm-issue').focus(); });
    $('rm-confirm-yes').addEventListener('click', issue);
    out.addEventListener('click', function (e) {
      var btn = e.target.closest && e.target.closest('.rm-dl');
      if (btn) download(btn);
    });
    document.documentElement.dataset.remindersReady = '1';
  };

  document.addEventListener('DOMContentLoaded', IOC.initReminders);
})(window);
