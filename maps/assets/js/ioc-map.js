/* iocmap — behaviour of the interactive map pages (/ and /p/{code}).
 * Folium has drawn the map and the classed polygons (they carry only code + value); this
 * file adds hover, keyboard focus, the click panel fed by the API, search, and URL state
 * (measure/period/lang in the query, the selected unit in the hash: #u=40123). */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});
  var STATUS_ORDER = { overdue: 0, on_time: 1, completed_late: 2, completed: 3 };

  IOC.initMap = function (map, layer) {
    var cfg = IOC.config();
    var byCode = new Map();
    var hovered = null;
    var selected = null;
    var panelSeq = 0;
    var lastTrigger = null;
    var panel = document.getElementById('ioc-panel');
    var body = document.getElementById('ioc-panel-body');
    var legendRows = document.querySelectorAll('.ioc-legend li[data-class]');
    var m = cfg.measure;
    IOC.map = map;
    IOC.layer = layer;

    map.zoomControl.setPosition('bottomright');
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);  // metric only
    if (IOC.addContext) IOC.addContext(map, { labels: cfg.level === 'province', lang: cfg.lang });
    var b = cfg.bounds;
    var home = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
    var userMoved = false;  // once the user pans or zooms, we only pan, never refit

    /** Padding that keeps a fit clear of the toolbar, the legend and an open panel, so
     * nothing the user may click lies under our own chrome. */
    function freePadding() {
      var size = map.getSize();
      var tl = [16, 16];
      var br = [16, 16];
      var bar = document.getElementById('ioc-toolbar');
      if (bar) tl[1] = Math.min(size.y / 2, bar.getBoundingClientRect().bottom + 8);
      if (!panel.hidden) {
        var r = panel.getBoundingClientRect();
        if (r.top > size.y / 3) br[1] = size.y - r.top + 8;   // bottom sheet
        else br[0] = size.x - r.left + 8;                     // side panel
      }
      return { paddingTopLeft: tl, paddingBottomRight: br };
    }

    function fitHome(animate) {
      map.fitBounds(home, Object.assign({ animate: !!animate }, freePadding()));
    }
    fitHome(false);
    map.on('dragstart', function () { userMoved = true; });
    map.getContainer().addEventListener('wheel', function () { userMoved = true; }, { passive: true });
    map.on('zoomstart', function (e) { if (e && e.originalEvent) userMoved = true; });
    document.querySelectorAll('.leaflet-control-zoom a').forEach(function (a) {
      a.addEventListener('click', function () { userMoved = true; });
    });

    function name(code) { return cfg.names[code] || code; }
    function valueOf(l) { return l.feature.properties.v; }
    /** The value as a reader says it: the class in words for a categorical measure. */
    function shown(l) {
      var v = valueOf(l);
      if (m.categories) return v === null || v === undefined ? IOC.t('no_data') : m.categories[v];
      return IOC.fmtUnit(v, m.decimals, m.unit);
    }

    function restyle(l) {
      var s = Object.assign({}, layer.options.style(l.feature));
      if (l === selected) { s.weight = 3.5; s.color = '#ffffff'; }
      else if (l === hovered) { s.weight = 2.2; s.color = '#cfe8ff'; }
      l.setStyle(s);
      // Raising moves the <path> in the DOM, which blurs it: never raise the focused one
      // (keyboard users would lose their place after each Tab).
      if ((l === selected || l === hovered) && l.getElement() !== document.activeElement) l.bringToFront();
    }

    function markLegend(l) {
      var cls = l ? IOC.classIndex(valueOf(l), cfg.breaks) : null;
      legendRows.forEach(function (li) { li.classList.toggle('active', li.dataset.class === cls); });
    }

    function hover(l, on) {
      var prev = hovered;
      hovered = on ? l : (hovered === l ? null : hovered);
      if (prev && prev !== hovered) restyle(prev);
      if (hovered) restyle(hovered);
      markLegend(hovered);
    }

    function tooltip(l) {
      var code = l.feature.properties.code;
      return '<b>' + IOC.esc(name(code)) + '</b><br>' + IOC.esc(m.label) + ': <span class="v">' +
        IOC.esc(shown(l)) + '</span>';
    }

    var phone = global.matchMedia && global.matchMedia('(max-width: 700px)').matches;
    layer.eachLayer(function (l) {
      var code = l.feature.properties.code;
      byCode.set(code, l);
      // no hover tooltip on a phone: a tap opens the bottom sheet, which says more
      if (!phone) l.bindTooltip(function () { return tooltip(l); }, { sticky: true, className: 'ioc-tip', direction: 'top', offset: [0, -8] });
      l.on('mouseover', function () { hover(l, true); });
      l.on('mouseout', function () { hover(l, false); });
      l.on('click', function () { lastTrigger = null; select(code, {}); });
      var el = l.getElement();
      if (!el) return;
      el.setAttribute('tabindex', '0');
      el.setAttribute('role', 'button');
      el.setAttribute('data-code', code);
      el.setAttribute('aria-label', name(code) + ': ' + shown(l));
      el.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          lastTrigger = el;
          select(code, { focusPanel: true });
        }
      });
      el.addEventListener('focus', function () { hover(l, true); l.openTooltip(l.getBounds().getCenter()); });
      el.addEventListener('blur', function () { hover(l, false); l.closeTooltip(); });
    });

    /* ---------- selection and the side panel ---------- */
    function setHash(code) {
      var url = location.pathname + location.search + (code ? '#u=' + code : '');
      history.replaceState(null, '', url);
    }

    function select(code, opts) {
      var l = byCode.get(code);
      if (!l) return false;
      var prev = selected;
      selected = l;
      if (prev && prev !== l) restyle(prev);
      restyle(l);
      setHash(code);
      openPanel(code, opts.focusPanel);
      if (opts.fly) {
        userMoved = true;
        IOC.flyToBounds(map, l.getBounds(), 0.6, Object.assign({ maxZoom: Math.max(map.getZoom(), cfg.level === 'commune' ? 10 : 7) }, freePadding()));
      } else keepClear(l);
      return true;
    }

    /** After the panel opens: the whole map still in view beside it (or, once the user
     * has moved the map, at least the selected unit). */
    function keepClear(l) {
      if (!userMoved) { fitHome(false); return; }
      var pad = freePadding();
      map.panInside(l.getBounds().getCenter(), { paddingTopLeft: pad.paddingTopLeft, paddingBottomRight: pad.paddingBottomRight });
    }

    function closePanel() {
      panelSeq++;
      panel.hidden = true;
      document.body.classList.remove('panel-open');
      if (!userMoved) fitHome(false);
      var prev = selected;
      selected = null;
      if (prev) restyle(prev);
      setHash(null);
      if (lastTrigger) { lastTrigger.focus(); lastTrigger = null; }
    }
    IOC.closePanel = closePanel;

    function query(extra) {
      var q = Object.assign({}, cfg.query || {}, extra || {});
      var keys = Object.keys(q);
      return keys.length ? '?' + keys.map(function (k) { return k + '=' + encodeURIComponent(q[k]); }).join('&') : '';
    }

    function panelHead(code, kicker, title) {
      return '<div class="panel-head"><div class="titles"><div class="kicker">' + IOC.esc(kicker) +
        '</div><h2 id="ioc-panel-title" tabindex="-1">' + IOC.esc(title) + '</h2></div>' +
        '<button type="button" class="panel-close" aria-label="' + IOC.esc(IOC.t('close')) +
        '" title="' + IOC.esc(IOC.t('close')) + '">×</button></div>';
    }

    function bindClose() {
      var btn = body.querySelector('.panel-close');
      if (btn) btn.addEventListener('click', closePanel);
    }

    function openPanel(code, focus) {
      var seq = ++panelSeq;
      panel.hidden = false;
      document.body.classList.add('panel-open');
      panel.dataset.code = code;
      panel.dataset.state = 'loading';
      body.innerHTML = panelHead(code, '', name(code)) + '<div class="panel-msg">' + IOC.esc(IOC.t('loading')) + '</div>';
      bindClose();
      if (focus) body.querySelector('h2').focus();
      var isProv = cfg.level === 'province';
      var detail = (isProv ? '/provinces/' : '/communes/') + code + (cfg.standalone ? '' : query());
      var tq = { limit: 500 };
      if (cfg.query && cfg.query.as_of) tq.as_of = cfg.query.as_of;
      var tasks = '/units/' + code + '/tasks?' + Object.keys(tq).map(function (k) { return k + '=' + tq[k]; }).join('&');
      var fetchOne = function (path) {  // a standalone export has no API: embedded data or nothing
        return cfg.standalone ? Promise.resolve((cfg.embedded || {})[path] || null) : IOC.getJSON(path);
      };
      // the deadline forecast of the measure's programme; the panel stands without it
      var fq = { programme: m.programme };
      if (cfg.query && cfg.query.as_of) fq.as_of = cfg.query.as_of;
      var forecast = '/units/' + code + '/forecast?' + Object.keys(fq).map(function (k) { return k + '=' + encodeURIComponent(fq[k]); }).join('&');
      var load = Promise.all([fetchOne(detail), fetchOne(tasks),
        fetchOne(forecast).catch(function () { return null; })]);
      load.then(function (res) {
        if (seq !== panelSeq) return;
        renderPanel(code, res[0], res[1], res[2]);
        panel.dataset.state = 'ready';
        if (focus) body.querySelector('h2').focus();
      }).catch(function (err) {
        if (seq !== panelSeq) return;
        renderError(code, focus);
        panel.dataset.state = 'error';
        if (global.console && console.warn) console.warn('iocmap panel:', err && err.message);
      });
    }

    function renderError(code, focus) {
      body.innerHTML = panelHead(code, '', name(code)) +
        '<div class="panel-error" role="alert"><p>' + IOC.esc(IOC.t('panel_error')) + '</p>' +
        '<button type="button" class="btn" id="ioc-retry">' + IOC.esc(IOC.t('retry')) + '</button></div>';
      bindClose();
      body.querySelector('#ioc-retry').addEventListener('click', function () { openPanel(code, true); });
      if (focus) body.querySelector('h2').focus();
    }

    function linkFrom(links, wanted) {
      if (!links) return null;
      if (Array.isArray(links)) {
        for (var i = 0; i < links.length; i++) {
          var ln = links[i] || {};
          var hay = (ln.rel || '') + ' ' + (ln.href || '');
          if (wanted.test(hay)) return ln.href;
        }
        return null;
      }
      var keys = Object.keys(links);
      for (var j = 0; j < keys.length; j++) {
        var v = links[keys[j]];
        var href = typeof v === 'string' ? v : (v && v.href);
        if (href && wanted.test(keys[j] + ' ' + href)) return href;
      }
      return null;
    }

    function downloadLink(code, props, links) {
      var kind = cfg.level === 'province' ? 'provinces' : 'communes';
      var href = linkFrom(links, /^download\b/i) ||
        (cfg.api ? cfg.api + '/download/' + kind + '.geojson?code=' + code : null);
      var attrs = ' download="' + kind.slice(0, -1) + '_' + code + '.geojson"';
      if (!href) {
        var l = byCode.get(code);
        var blob = new Blob([JSON.stringify({ type: 'FeatureCollection', features: [l.toGeoJSON()] })], { type: 'application/geo+json' });
        href = URL.createObjectURL(blob);
      }
      return '<a class="btn" id="ioc-download" href="' + IOC.esc(href) + '"' + attrs + '>' +
        '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M12 3v12m0 0l-5-5m5 5l5-5M4 20h16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>' +
        IOC.esc(IOC.t('download_geojson')) + '</a>';
    }

    function kpi(label, value, extra, cls) {
      return '<div class="kpi' + (cls ? ' ' + cls : '') + '"><div class="k">' + IOC.esc(label) +
        '</div><div class="v">' + value + '</div>' + (extra || '') + '</div>';
    }

    function sortTasks(tasks) {
      return tasks.slice().sort(function (a, b) {
        var s = (STATUS_ORDER[a.status] || 0) - (STATUS_ORDER[b.status] || 0);
        if (s) return s;
        if (a.status === 'overdue' && b.days_overdue !== a.days_overdue) return (b.days_overdue || 0) - (a.days_overdue || 0);
        if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
        return (a.group_no || 0) - (b.group_no || 0);
      });
    }

    function tasksTable(t) {
      // the page's basis: only the tasks due in its year (the figures above count those)
      var all = (t && t.tasks) || [];
      var tasks = cfg.basisYear ? all.filter(function (k) { return k.year === undefined || k.year === null || k.year === cfg.basisYear; }) : all;
      var matched = t && t.numberMatched !== undefined ? t.numberMatched - (all.length - tasks.length) : tasks.length;
      t = Object.assign({}, t, { numberMatched: matched });
      var head = '<section class="panel-sec" aria-labelledby="ioc-tasks-h"><h3 id="ioc-tasks-h">' +
        IOC.esc(IOC.t('tasks')) + ' (' + IOC.fmt(matched, 0) + ')</h3>';
      if (!tasks.length) return head + '<p class="more">' + IOC.esc(IOC.t('no_tasks')) + '</p></section>';
      var groups = tasks.some(function (k) { return k.group_no !== null && k.group_no !== undefined; });
      var rows = sortTasks(tasks).map(function (k) {
        var days = k.status === 'overdue' && k.days_overdue
          ? '<span class="task-days">' + IOC.fmt(k.days_overdue, 0) + ' ' + IOC.esc(IOC.t('days')) + '</span>' : '';
        return '<tr class="task st-row-' + IOC.esc(k.status) + '" data-task-id="' + IOC.esc(k.id) + '">' +
          (groups ? '<td class="num">' + (k.group_no === null || k.group_no === undefined ? '—' : IOC.esc(k.group_no)) + '</td>' : '') +
          '<td><div class="task-title">' + IOC.esc(k.title) + '</div>' +
          (k.lead_agency ? '<div class="task-agency">' + IOC.esc(IOC.t('lead_agency')) + ': ' + IOC.esc(k.lead_agency) + '</div>' : '') +
          (k.reason ? '<div class="task-reason">' + IOC.esc(IOC.t('reason')) + ': ' + IOC.esc(k.reason) + '</div>' : '') +
          (k.difficulty ? '<div class="task-difficulty">' + IOC.esc(IOC.t('difficulty')) + ': ' + IOC.esc(IOC.t('cat_' + k.difficulty)) +
            (k.difficulty_suggested ? ' <span class="suggested">(' + IOC.esc(IOC.t('suggested')) + ')</span>' : '') + '</div>' : '') +
          (k.waits_on ? '<div class="task-waits">' + IOC.esc(IOC.t('waits_on')) + ': ' + IOC.esc(k.waits_on) + '</div>' : '') +
          (k.proposal ? '<div class="task-proposal">' + IOC.esc(IOC.t('proposal')) + ': ' + IOC.esc(k.proposal) + '</div>' : '') +
          (k.person_in_charge ? '<div class="task-person">' + IOC.esc(IOC.t('person_in_charge')) + ': ' + IOC.esc(k.person_in_charge) + '</div>' : '') +
          (k.product ? '<div class="task-product">' + IOC.esc(IOC.t('product')) + ': ' + IOC.esc(k.product) + '</div>' : '') +
          (k.authority ? '<div class="task-authority">' + IOC.esc(IOC.t('authority')) + ': ' + IOC.esc(k.authority) + '</div>' : '') +
          (k.expected_at ? '<div class="task-expected">' + IOC.esc(IOC.t('expected_at')) + ': ' + IOC.fmtDate(k.expected_at) + '</div>' : '') +
          (k.office_status ? '<div class="task-office-status">' + IOC.esc(IOC.t('office_status')) + ': ' + IOC.esc(k.office_status) + '</div>' : '') +
          (k.completed_at_bound && k.completed_at ? '<div class="task-undated">' + IOC.esc(IOC.t('completed_by', { d: IOC.fmtDate(k.completed_at) })) + '</div>' : '') +
          (k.missing_reason ? '<div class="task-missing-reason">⚠ ' + IOC.esc(IOC.t('missing_reason')) + '</div>' : '') + '</td>' +
          '<td class="num">' + IOC.fmtDate(k.deadline) + '</td>' +
          '<td>' + IOC.statusBadge(k.status, cfg.lang === 'en' ? null : k.status_label_vi) + days + '</td></tr>';
      }).join('');
      var more = t.numberMatched > tasks.length
        ? '<p class="more">' + IOC.esc(IOC.t('more_tasks', { n: IOC.fmt(t.numberMatched - tasks.length, 0) })) + '</p>' : '';
      return head + '<table class="tasks-t' + (groups ? ' grouped' : '') + '"><thead><tr>' +
        (groups ? '<th class="num">' + IOC.esc(IOC.t('group')) + '</th>' : '') + '<th>' +
        IOC.esc(IOC.t('task_title')) + '</th><th class="num">' + IOC.esc(IOC.t('deadline')) + '</th><th>' +
        IOC.esc(IOC.t('status')) + '</th></tr></thead><tbody>' + rows + '</tbody></table>' + more + '</section>';
    }

    function change(v, decimals, better) {
      if (v === null || v === undefined) return '<span class="chg-same">—</span>';
      var cls = v === 0 ? 'chg-same' : ((v > 0) === better ? 'chg-up' : 'chg-down');
      var arrow = v > 0 ? '▲' : (v < 0 ? '▼' : '■');
      return '<span class="' + cls + '">' + arrow + ' ' + (v > 0 ? '+' : '') + IOC.fmt(v, decimals) + '</span>';
    }

    function indicatorsTable(list) {
      var head = '<section class="panel-sec" aria-labelledby="ioc-ind-h"><h3 id="ioc-ind-h">' + IOC.esc(IOC.t('indicators')) +
        (list && list.length && list[0].period ? ' · ' + IOC.esc(list[0].period) : '') + '</h3>';
      if (!list || !list.length) return head + '<p class="more">' + IOC.esc(IOC.t('no_indicators')) + '</p></section>';
      var rows = list.map(function (i) {
        var label = cfg.lang === 'en' ? (i.name_en || i.name) : i.name;
        var unit = i.unit === '%' ? '%' : (i.unit === 'điểm' ? IOC.t('points') : (i.unit || ''));
        var dec = Math.abs(i.value || 0) <= 1.5 ? 3 : 1; // 0–1 indices (DTI) need 3 decimals
        var rank = i.rank ? IOC.fmt(i.rank, 0) + (i.rank_of ? '/' + IOC.fmt(i.rank_of, 0) : '') : '—';
        var rankChg = i.rank_change === null || i.rank_change === undefined ? '' :
          ' ' + change(i.rank_change, 0, true);
        return '<tr data-indicator="' + IOC.esc(i.code) + '"><td>' + IOC.esc(label) + '</td><td class="num">' +
          IOC.esc(IOC.fmtUnit(i.value, dec, unit)) + '</td><td class="num">' + rank + rankChg + '</td><td class="num">' +
          change(i.change, dec, i.higher_is_better !== false) + '</td></tr>';
      }).join('');
      return head + '<table><thead><tr><th>' + IOC.esc(IOC.t('indicators')) + '</th><th class="num">' +
        IOC.esc(IOC.t('value')) + '</th><th class="num">' + IOC.esc(IOC.t('rank')) + '</th><th class="num" title="' +
        IOC.esc(IOC.t('change')) + '">±</th></tr></thead><tbody>' + rows + '</tbody></table></section>';
    }

    /** A province's targets, met / not met / at risk on the page's as-of date. */
    function targetsList(list) {
      if (!list || !list.length) return '';
      var rows = list.map(function (t) {
        return '<li class="target t-' + IOC.esc(t.state) + '" data-target="' + IOC.esc(t.subject) + '" data-state="' +
          IOC.esc(t.state) + '"><span class="n">' + IOC.esc(t.label || t.subject) + '</span> <b class="st">' +
          IOC.esc(IOC.t('target_' + t.state)) + '</b><br><small>' + IOC.esc(t.detail) + '</small></li>';
      }).join('');
      return '<section class="panel-sec" aria-labelledby="ioc-targets-h"><h3 id="ioc-targets-h">' +
        IOC.esc(IOC.t('targets_title')) + '</h3><ul class="targets" id="ioc-targets">' + rows + '</ul></section>';
    }

    /** When the unit last reported, and how complete its figures are. */
    function healthLine(h) {
      if (!h) return '';
      var when = h.last_report_date ? h.last_report_date.split('-').reverse().join('/') : '—';
      var days = h.days_since_report === null ? '—' : IOC.fmt(h.days_since_report, 0) + ' ' + IOC.t('days');
      return '<p class="panel-sec panel-health' + (h.stale ? ' stale' : '') + '" id="ioc-health">' + IOC.esc(IOC.t('days_since')) +
        ': <b class="num">' + IOC.esc(days) + '</b> (' + IOC.esc(when) + ')' +
        (h.values_missing && h.values_missing.length ? ' · ' + IOC.esc(IOC.t('least_complete')) + ': ' +
          IOC.esc(h.values_missing.join(', ')) : '') + '</p>';
    }

    function trendSection(code, p) {
      // server-drawn SVG (no charting library; cached per data version); none in an export
      var q = p.change && p.change.previous_quarter;
      var html = '<section class="panel-sec panel-trend" aria-labelledby="ioc-trend-h"><h3 id="ioc-trend-h">' +
        IOC.esc(IOC.t('trend')) + '</h3>';
      if (cfg.api && !cfg.standalone) {
        html += '<img class="trend-chart" width="320" height="120" alt="' + IOC.esc(IOC.t('trend')) + '" src="' +
          IOC.esc(cfg.api + '/units/' + code + '/series.svg?step=week') + '">';
      }
      if (q) {
        html += '<p class="trend-change">' + IOC.esc(IOC.t('since_quarter')) + ' (' + IOC.fmtDate(q.since) + '): ' +
          IOC.esc(IOC.t('tasks_done')) + ' ' + change(q.tasks_completed, 0, true) + ' · ' +
          IOC.esc(IOC.t('overdue')) + ' ' + change(q.tasks_overdue, 0, false) + ' · ' +
          IOC.esc(IOC.t('completion')) + ' ' + change(q.completion_pct, 2, true) + '</p>';
      }
      if (p.tasks_overdue_without_reason) {
        html += '<p class="trend-missing">⚠ ' + IOC.esc(IOC.t('overdue_no_reason')) + ': <span class="num">' +
          IOC.fmt(p.tasks_overdue_without_reason, 0) + '</span></p>';
      }
      return html + '</section>';
    }

    /* ---------- the deadline forecast: figures and a progress chart with the pace lines ---------- */
    function perWeek(v) { return v === null || v === undefined ? '—' : IOC.fmt(v, 2) + IOC.t('fc_per_week'); }

    function weeksBetween(a, b) { return (Date.parse(b) - Date.parse(a)) / (7 * 864e5); }

    /** Completed tasks (cumulative) over the 8 weeks of the pace window, then from the as-of
     * day to the deadline: the recent pace extended (dashed) and the pace needed (dotted). */
    function paceChart(f, asOf) {
      var W = 320, H = 130, L0 = 34, R0 = 12, T0 = 12, B0 = 20;
      var weekly = f.weekly_completions || [];
      var done = f.tasks_completed || 0;
      var cum = [done];
      for (var i = weekly.length - 1; i >= 0; i--) cum.unshift(cum[0] - weekly[i]);
      var past = weekly.length;  // weeks before the as-of day
      var left = Math.max(0, weeksBetween(asOf, f.deadline));
      var target = done + (f.open_due || 0);
      var reach = f.pace_per_week === null || f.pace_per_week === undefined ? null : done + f.pace_per_week * left;
      var ymin = Math.min.apply(null, cum);
      var ymax = Math.max(target, reach === null ? 0 : reach, done, ymin + 1);
      var span = past + Math.max(left, 0.5);
      var x = function (w) { return L0 + (W - L0 - R0) * (w + past) / span; };  // w: weeks from as-of
      var y = function (v) { return T0 + (H - T0 - B0) * (1 - (v - ymin) / (ymax - ymin)); };
      var pts = cum.map(function (v, k) { return x(k - past).toFixed(1) + ',' + y(v).toFixed(1); }).join(' ');
      var label = function (cls, text, x0, y0, anchor) {
        return '<text class="' + cls + '" x="' + x0.toFixed(1) + '" y="' + y0.toFixed(1) + '" font-size="9"' +
          (anchor ? ' text-anchor="' + anchor + '"' : '') + '>' + IOC.esc(text) + '</text>';
      };
      // the lines' key, top left of the plot (where the cumulative line is lowest)
      var key = function (row, sample) {
        return '<g class="pace-key" transform="translate(' + (L0 + 5) + ',' + (T0 + 8 + 12 * row) + ')">' + sample + '</g>';
      };
      var svg = '<svg class="fc-chart" id="ioc-fc-chart" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H +
        '" role="img" aria-labelledby="ioc-fc-chart-t"><title id="ioc-fc-chart-t">' + IOC.esc(IOC.t('fc_chart')) + '</title>' +
        '<rect x="' + L0 + '" y="' + T0 + '" width="' + (W - L0 - R0) + '" height="' + (H - T0 - B0) + '" fill="none" stroke="#3a4a6b" stroke-width="0.5"/>' +
        label('axis', IOC.fmt(ymax, 0), L0 - 3, T0 + 8, 'end') + label('axis', IOC.fmt(ymin, 0), L0 - 3, H - B0, 'end') +
        '<line class="asof" x1="' + x(0).toFixed(1) + '" x2="' + x(0).toFixed(1) + '" y1="' + T0 + '" y2="' + (H - B0) + '" stroke="#8da2c0" stroke-width="0.6"/>' +
        '<polyline class="fc-done" points="' + pts + '" fill="none" stroke="#38bdf8" stroke-width="2"><title>' +
        IOC.esc(IOC.t('fc_done_line')) + ': ' + IOC.fmt(done, 0) + '</title></polyline>';
      if (left > 0) {
        var dx = x(left);
        svg += '<line class="deadline" x1="' + dx.toFixed(1) + '" x2="' + dx.toFixed(1) + '" y1="' + T0 + '" y2="' + (H - B0) +
          '" stroke="#e6edf7" stroke-width="0.8" stroke-dasharray="2 2"/>' +
          label('axis', IOC.t('fc_deadline_label') + ' ' + IOC.fmtDate(f.deadline), dx, H - 6, 'end');
        if (f.open_due) {
          svg += '<line class="pace-line pace-needed" data-pace="needed" x1="' + x(0).toFixed(1) + '" y1="' + y(done).toFixed(1) +
            '" x2="' + dx.toFixed(1) + '" y2="' + y(target).toFixed(1) + '" stroke="#e6edf7" stroke-width="1.6" stroke-dasharray="1 3"' +
            ' stroke-linecap="round"><title>' + IOC.esc(IOC.t('fc_needed') + ': ' + perWeek(f.needed_per_week)) + '</title></line>' +
            key(0, '<line x1="0" y1="0" x2="14" y2="0" stroke="#e6edf7" stroke-width="1.6" stroke-dasharray="1 3" stroke-linecap="round"/>') +
            label('pace-label pace-needed', IOC.t('fc_needed') + ' ' + perWeek(f.needed_per_week), L0 + 22, T0 + 11);
        }
        if (reach !== null) {
          var colour = (cfg.forecastColours || {})[f['class']] || '#E69F00';
          svg += '<line class="pace-line pace-recent" data-pace="recent" x1="' + x(0).toFixed(1) + '" y1="' + y(done).toFixed(1) +
            '" x2="' + dx.toFixed(1) + '" y2="' + y(reach).toFixed(1) + '" stroke="' + colour + '" stroke-width="2" stroke-dasharray="5 3">' +
            '<title>' + IOC.esc(IOC.t('fc_pace') + ': ' + perWeek(f.pace_per_week)) + '</title></line>' +
            key(1, '<line x1="0" y1="0" x2="14" y2="0" stroke="' + colour + '" stroke-width="2" stroke-dasharray="5 3"/>') +
            label('pace-label pace-recent', IOC.t('fc_pace') + ' ' + perWeek(f.pace_per_week), L0 + 22, T0 + 23);
        }
      }
      return svg + '</svg>';
    }

    function forecastSection(data, code) {
      var f = data && data.forecasts && data.forecasts[0];
      if (!f) return '';
      var cls = f['class'];
      var expected = f.expected_completion ? IOC.fmtDate(f.expected_completion) : (f.open_due ? IOC.t('fc_never') : '—');
      var colour = (cfg.forecastColours || {})[cls];
      var html = '<section class="panel-sec panel-forecast" id="ioc-forecast" data-class="' + IOC.esc(cls) +
        '" aria-labelledby="ioc-fc-h"><h3 id="ioc-fc-h">' + IOC.esc(IOC.t('fc_title')) + ' · ' + IOC.esc(f.programme) +
        ' · ' + IOC.esc(IOC.t('fc_deadline_label').toLowerCase()) + ' ' + IOC.fmtDate(f.deadline) + '</h3>' +
        '<p class="fc-class"><span class="swatch" aria-hidden="true"' + (colour ? ' style="background:' + colour + '"' : '') +
        '></span><b>' + IOC.esc(IOC.t('fc_' + cls)) + '</b> <small>' + IOC.esc(IOC.t('fc_' + cls + '_note')) + '</small></p>' +
        '<dl class="fc-figures">' +
        '<div><dt>' + IOC.esc(IOC.t('fc_open_due')) + '</dt><dd class="num" id="ioc-fc-open">' + IOC.fmt(f.open_due, 0) + '</dd></div>' +
        '<div><dt>' + IOC.esc(IOC.t('fc_pace')) + '</dt><dd class="num" id="ioc-fc-pace">' + IOC.esc(perWeek(f.pace_per_week)) + '</dd></div>' +
        '<div><dt>' + IOC.esc(IOC.t('fc_needed')) + '</dt><dd class="num" id="ioc-fc-needed">' + IOC.esc(perWeek(f.needed_per_week)) + '</dd></div>' +
        '<div><dt>' + IOC.esc(IOC.t('fc_expected')) + '</dt><dd class="num" id="ioc-fc-expected">' + IOC.esc(expected) + '</dd></div>' +
        '</dl>';
      if (data.as_of && f.deadline <= data.as_of && f.open_due) html += '<p class="fc-passed">' + IOC.esc(IOC.t('fc_passed')) + '</p>';
      if (data.as_of && cls !== 'no_history') html += paceChart(f, data.as_of);
      return html + '</section>';
    }

    /** The register of difficulties for this unit: its open tasks by the reason's category
     * (the tasks list carries each task's category), largest first; suggested ones said so. */
    function difficultiesSection(t) {
      var open = ((t && t.tasks) || []).filter(function (k) {
        return k.difficulty && (k.status === 'overdue' || k.status === 'on_time');
      });
      if (!open.length) return '';
      var by = {};
      open.forEach(function (k) {
        var c = by[k.difficulty] || (by[k.difficulty] = { n: 0, suggested: 0, waits: 0 });
        c.n += 1;
        if (k.difficulty_suggested) c.suggested += 1;
        if (k.waits_on) c.waits += 1;
      });
      var rows = Object.keys(by).sort(function (a, b) { return by[b].n - by[a].n || (a < b ? -1 : 1); }).map(function (c) {
        return '<tr><td>' + IOC.esc(IOC.t('cat_' + c)) + '</td><td class="num">' + IOC.fmt(by[c].n, 0) + '</td><td class="num">' +
          IOC.fmt(by[c].suggested, 0) + '</td></tr>';
      }).join('');
      return '<section class="panel-sec panel-difficulties" aria-labelledby="ioc-diff-h"><h3 id="ioc-diff-h">' +
        IOC.esc(IOC.t('difficulties')) + ' (' + IOC.fmt(open.length, 0) + ')</h3><table class="diff-t"><thead><tr><th>' +
        IOC.esc(IOC.t('difficulty')) + '</th><th class="num">' + IOC.esc(IOC.t('open_tasks')) + '</th><th class="num">' +
        IOC.esc(IOC.t('suggested')) + '</th></tr></thead><tbody>' + rows + '</tbody></table></section>';
    }

    function renderPanel(code, detail, tasks, forecast) {
      var f = detail || {};
      var p = f.properties || f;
      var isProv = cfg.level === 'province';
      var prov = p.province ? (p.province.name || '') : (p.province_name || (cfg.province ? cfg.province.name : ''));
      var kicker = isProv ? (p.kind || IOC.t('province')) : [p.kind, prov].filter(Boolean).join(' · ');
      var pct = p.completion_pct;
      var html = panelHead(code, kicker, p.name || name(code));
      html += '<div class="panel-kpis">' +
        kpi(IOC.t('completion'), IOC.esc(IOC.fmtUnit(pct, 2, '%')),
          '<div class="bar" aria-hidden="true"><i style="width:' + Math.max(0, Math.min(100, pct || 0)) + '%"></i></div>') +
        kpi(IOC.t('tasks_done'), '<span class="num">' + IOC.fmt(p.tasks_completed, 0) + '/' + IOC.fmt(p.tasks_total, 0) + '</span>') +
        kpi(IOC.t('overdue'), (p.tasks_overdue ? IOC.statusBadge('overdue', IOC.fmt(p.tasks_overdue, 0)) : '<span class="num">0</span>'), '', p.tasks_overdue ? 'bad' : '') +
        '</div>';
      html += trendSection(code, p);
      html += forecastSection(forecast, code);
      if (!isProv && p.groups_total) {
        html += '<div class="panel-sec"><h3>' + IOC.esc(IOC.t('groups_done')) + ': <span class="num">' +
          IOC.fmt(p.groups_done, 0) + '/' + IOC.fmt(p.groups_total, 0) + '</span></h3></div>';
      }
      html += healthLine(p.data_health);
      html += targetsList(p.targets);
      if (p.indicators) html += indicatorsTable(p.indicators);
      if (tasks) html += difficultiesSection(tasks) + tasksTable(tasks);
      else html += '<p class="panel-msg">' + IOC.esc(IOC.t('offline_details')) + '</p>';
      html += '<div class="panel-links">' + downloadLink(code, p, f.links || p.links);
      if (isProv && (!cfg.links.provinces || cfg.links.provinces.indexOf(code) >= 0)) {
        html += '<a class="btn primary" id="ioc-drill" href="' + IOC.esc(cfg.links.province.replace('{code}', code)) + '">' +
          IOC.esc(IOC.t('open_province')) + ' →</a>';
      }
      html += '</div>';
      body.innerHTML = html;
      bindClose();
    }

    panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') closePanel(); });
    // Escape from the page itself (focus on the body) closes the panel too
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !panel.hidden && !panel.contains(document.activeElement) &&
          (document.activeElement === document.body || !document.activeElement)) closePanel();
    });

    /* ---------- arrow keys: the neighbouring unit west/east/north/south ---------- */
    IOC._bounds = function (code) {  // [west, south, east, north] of a drawn unit (tests)
      var b = byCode.get(code).getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    };
    var DIRS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    function neighbour(code, dir) {
      var from = byCode.get(code).getBounds().getCenter();
      var best = null;
      var bestScore = Infinity;
      byCode.forEach(function (l, c) {
        if (c === code) return;
        var at = l.getBounds().getCenter();
        var dx = (at.lng - from.lng) * Math.cos(from.lat * Math.PI / 180);
        var dy = at.lat - from.lat;
        var along = dx * dir[0] + dy * dir[1];
        if (along <= 0) return;
        var across = Math.abs(dx * dir[1] - dy * dir[0]);
        if (across > along * 1.5) return;  // within ~56° of the direction
        var score = along + 2 * across;
        if (score < bestScore) { bestScore = score; best = c; }
      });
      return best;
    }
    document.addEventListener('keydown', function (e) {
      if (!DIRS[e.key] || !selected || panel.hidden) return;
      var t = document.activeElement;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
      if (t && t !== document.body && !panel.contains(t) && !(t.closest && t.closest('.leaflet-container'))) return;
      var next = neighbour(panel.dataset.code, DIRS[e.key]);
      if (!next) return;
      e.preventDefault();
      select(next, { focusPanel: true });
    });

    /* ---------- phone bar: the controls and the legend behind toggles ---------- */
    function toggler(btnId, cls, focusSel) {
      var btn = document.getElementById(btnId);
      if (!btn) return;
      btn.addEventListener('click', function () {
        var open = !document.body.classList.contains(cls);
        document.body.classList.toggle(cls, open);
        btn.setAttribute('aria-expanded', String(open));
        if (open && focusSel) { var f = document.querySelector(focusSel); if (f) f.focus(); }
      });
      document.addEventListener('keydown', function (e) {
        if (e.key === 'Escape' && document.body.classList.contains(cls)) {
          document.body.classList.remove(cls);
          btn.setAttribute('aria-expanded', 'false');
          btn.focus();
        }
      });
    }
    toggler('ioc-controls-toggle', 'controls-open', '#ioc-search');
    toggler('ioc-legend-toggle', 'legend-open', null);

    /* ---------- search (diacritic-free; the API, or the embedded names offline) ---------- */
    var input = document.getElementById('ioc-search');
    var list = document.getElementById('ioc-search-list');
    var results = [];
    var active = -1;
    var searchSeq = 0;
    var debounce = null;
    var pendingEnter = false;  // Enter pressed before the results of what was typed arrived
    var pendingDown = false;  // ArrowDown pressed then: the first result once they arrive
    var shownFor = null;  // the query the shown results answer

    function localSearch(q) {
      var key = IOC.searchKey(q);
      var out = [];
      Object.keys(cfg.names).forEach(function (code) {
        var k = IOC.searchKey(cfg.names[code]);
        if (k.indexOf(key) >= 0) out.push({ code: code, full_name: cfg.names[code], level: cfg.level, score: k.endsWith(key) ? 0 : 1 });
      });
      return out.sort(function (a, b) { return a.score - b.score; }).slice(0, 8);
    }

    function showResults(items) {
      results = items;
      active = -1;  // nothing chosen yet: ArrowDown goes to the first, Enter takes the first
      if (!items.length) {
        list.innerHTML = '<li class="empty" role="option" aria-disabled="true">' + IOC.esc(IOC.t('search_none')) + '</li>';
      } else {
        list.innerHTML = items.map(function (r, i) {
          var where = r.level === 'commune' ? (r.province_name || (cfg.province && cfg.province.name) || '') : '';
          return '<li role="option" id="ioc-opt-' + i + '" data-i="' + i + '" aria-selected="false">' +
            IOC.esc(r.full_name || r.name) + (where ? '<small>' + IOC.esc(where) + '</small>' : '') + '</li>';
        }).join('');
      }
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      input.removeAttribute('aria-activedescendant');
      if (pendingEnter && items.length) { pendingEnter = false; choose(items[0]); return; }
      if (pendingDown && items.length) moveActive(1);
      pendingDown = false;
    }

    function hideResults() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }

    function moveActive(d) {
      if (!results.length) return;
      active = active < 0 ? (d > 0 ? 0 : results.length - 1) : (active + d + results.length) % results.length;
      list.querySelectorAll('li[role=option]').forEach(function (li, i) { li.setAttribute('aria-selected', String(i === active)); });
      input.setAttribute('aria-activedescendant', 'ioc-opt-' + active);
    }

    function choose(r) {
      hideResults();
      input.value = r.full_name || r.name;
      if (select(r.code, { fly: true, focusPanel: true })) return;
      var province = r.level === 'province' ? r.code : r.province_code;
      if (!province) return;
      if (cfg.links.provinces && cfg.links.provinces.indexOf(province) < 0) return;  // not exported
      var href = cfg.links.province.replace('{code}', province);
      location.assign(href + (r.level === 'commune' ? '#u=' + r.code : ''));
    }

    function runSearch() {
      var q = input.value.trim();
      if (q.length < 2) { hideResults(); return; }
      var seq = ++searchSeq;
      if (!cfg.api) { shownFor = q; showResults(localSearch(q)); return; }
      fetch(cfg.api + '/search?q=' + encodeURIComponent(q) + '&limit=8', { headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(function (d) { if (seq === searchSeq) { shownFor = q; showResults(d.results || []); } })
        .catch(function () { if (seq === searchSeq) { shownFor = q; showResults(localSearch(q)); } });
    }

    if (input) {
      input.addEventListener('input', function () { clearTimeout(debounce); debounce = setTimeout(runSearch, 150); });
      input.addEventListener('keydown', function (e) {
        var fresh = shownFor === input.value.trim() && !list.hidden;  // results of what is typed
        if (e.key === 'ArrowDown') {
          e.preventDefault();
          if (fresh) moveActive(1); else { pendingDown = true; clearTimeout(debounce); runSearch(); }
        } else if (e.key === 'ArrowUp') { e.preventDefault(); if (fresh) moveActive(-1); }
        else if (e.key === 'Enter') {
          e.preventDefault();
          if (fresh && results.length) choose(results[active >= 0 ? active : 0]);
          else { pendingEnter = true; clearTimeout(debounce); runSearch(); }
        } else if (e.key === 'Escape') { hideResults(); }
      });
      list.addEventListener('mousedown', function (e) {
        var li = e.target.closest('li[data-i]');
        if (li) { e.preventDefault(); choose(results[Number(li.dataset.i)]); }
      });
      input.addEventListener('blur', function () { setTimeout(hideResults, 120); });
    }

    /* ---------- measure / period / language keep the rest of the URL ---------- */
    function navigate(set) {
      var u = new URL(location.href);
      Object.keys(set).forEach(function (k) { if (set[k] === null) u.searchParams.delete(k); else u.searchParams.set(k, set[k]); });
      location.assign(u.toString());
    }
    var ms = document.getElementById('ioc-measure');
    if (ms) ms.addEventListener('change', function () {
      navigate({ measure: ms.value === 'completion_pct' ? null : ms.value, period: null });
    });
    var ps = document.getElementById('ioc-period');
    if (ps) ps.addEventListener('change', function () { navigate({ period: ps.value }); });
    var lang = document.getElementById('ioc-lang');
    if (lang) lang.addEventListener('click', function () { lang.href = lang.href.split('#')[0] + location.hash; });
    var nat = document.getElementById('ioc-national-link');
    if (nat) nat.addEventListener('click', function () {
      if (cfg.province) nat.href = nat.href.split('#')[0] + '#u=' + cfg.province.code;
    });

    /* ---------- geometry that fits the zoom (the service's simplified levels) ---------- */
    var bandOf = function (z) { return z <= 6 ? 'z6' : z <= 9 ? 'z9' : z <= 12 ? 'z12' : 'full'; };
    var band = cfg.band || 'full';
    var geomCache = new Map();
    function applyGeometry(fc) {
      (fc.features || []).forEach(function (f) {
        var l = byCode.get(f.id || (f.properties && f.properties.code));
        if (!l || !f.geometry) return;
        var depth = f.geometry.type === 'MultiPolygon' ? 2 : 1;
        l.setLatLngs(L.GeoJSON.coordsToLatLngs(f.geometry.coordinates, depth));
      });
    }
    if (cfg.refinePath && cfg.api) {
      map.on('zoomend', function () {
        var z = Math.floor(map.getZoom());
        var want = bandOf(z);
        if (want === band) return;
        band = want;
        if (geomCache.has(want)) { applyGeometry(geomCache.get(want)); return; }
        fetch(cfg.api + cfg.refinePath + z, { headers: { Accept: 'application/geo+json' } })
          .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
          .then(function (fc) {
            geomCache.set(want, fc);
            if (band === want) applyGeometry(fc);
          })
          .catch(function () { band = null; });
      });
    }

    /* ---------- initial state from the URL ---------- */
    var hm = /[#&]u=([0-9]+)/.exec(location.hash);
    // arriving with a unit chosen elsewhere (search on another page): its panel, focused
    if (hm && byCode.has(hm[1])) select(hm[1], { fly: cfg.level === 'commune', focusPanel: true });
    IOC.drawnAt = global.performance ? performance.now() : null; // ms since navigation start
    document.documentElement.dataset.mapReady = '1';
    IOC.ready = true;
  };
})(window);
