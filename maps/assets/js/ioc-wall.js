/* iocmap — the IOC wall display (/wall).
 * Refreshes figures in place every N s with If-None-Match (a 304 redraws nothing), never
 * reloads the page and never moves the map on a refresh; rotates the playlist views;
 * keeps the last good data and shows a stale badge while the API is unreachable.
 * Memory stays flat: the same layers and DOM nodes are restyled/retexted, one timer of
 * each kind exists at a time, and each URL keeps only its latest body. */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});
  var VN_OFFSET_MS = 7 * 3600 * 1000; // Asia/Ho_Chi_Minh has no daylight saving
  var WEEKDAYS = {
    vi: ['Chủ Nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'],
    en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
  };
  var MAX_ALERTS = 30;  // the rail pages through them (fitAlerts)

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function vnTime(ms) { return new Date((ms === undefined ? Date.now() : ms) + VN_OFFSET_MS); }
  function $(id) { return document.getElementById(id); }
  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  var SHORT = [['Thành phố ', 'TP. '], ['Tỉnh ', ''], ['Phường ', 'P. '], ['Thị trấn ', 'TT. ']];
  /** A unit's short label: the rule of maps/unit_names.py ("Thành phố Hồ Chí Minh" → "TP. Hồ Chí Minh"). */
  IOC.shortName = function (name) {
    var t = String(name || '').normalize('NFC').trim();
    for (var i = 0; i < SHORT.length; i++) {
      if (t.indexOf(SHORT[i][0]) === 0 && t.length > SHORT[i][0].length) return SHORT[i][1] + t.slice(SHORT[i][0].length);
    }
    return t;
  };

  IOC.initWall = function (map, provLayer) {
    var cfg = IOC.config();
    var M = cfg.measures;
    var api = cfg.api;
    var client = new IOC.ETagClient(Math.max(2000, Math.min(10000, cfg.refreshMs * 2)));
    var timers = { refresh: null, rotate: null, clock: null };
    var st = {
      cycles: 0, changes: 0, failures: 0, stale: false, lastOk: null, viewIndex: 0,
      completion: {}, provinces: [], indicator: {}, prevProv: null, prevCom: null,
      overdueList: [], communeFc: null, communeProvince: null
    };
    IOC.wall = st;
    IOC.wallMap = map;

    /* ---------- layout: the Folium map goes into its grid cell ---------- */
    var slot = $('wall-map-slot');
    slot.insertBefore(map.getContainer(), slot.firstChild);
    map.invalidateSize();
    if (global.ResizeObserver) new ResizeObserver(function () { map.invalidateSize(); }).observe(slot);
    document.querySelectorAll('[data-icon]').forEach(function (el) { el.innerHTML = IOC.icon(el.dataset.icon); });

    var byCode = new Map();
    provLayer.eachLayer(function (l) {
      var code = l.feature.properties.code;
      byCode.set(code, l);
      l._iocFill = l.options.fillColor;
      var el = l.getElement();
      if (el) el.setAttribute('data-code', code);
      st.completion[code] = l.feature.properties.v;
    });
    IOC.addContext(map, { labels: true, lang: cfg.lang, seaAt: [13.6, 110.0] });
    var basisQ = Object.keys(cfg.query || {}).map(function (k) { return k + '=' + encodeURIComponent(cfg.query[k]); }).join('&');
    function withBasis(url) { return basisQ ? url + (url.indexOf('?') >= 0 ? '&' : '?') + basisQ : url; }
    var shortName = {};
    var kindOf = {};
    ((cfg.summary || {}).provinces || []).forEach(function (p) { shortName[p.code] = p.name; kindOf[p.code] = p.kind; });

    /* ---------- Hoàng Sa and Trường Sa: one inset each, fitted to its islands ---------- */
    var insetEls = [$('wall-inset'), $('wall-inset-2')].filter(Boolean);
    var insetEl = insetEls[0];
    var insets = [];
    var insetByCode = new Map();
    (cfg.insets || []).forEach(function (spec, k) {
      var el = insetEls[k];
      if (!el || !global.L) return;
      var m = L.map(el, { zoomControl: false, attributionControl: false, dragging: false,
        scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.1 });
      var ib = spec.bounds;
      var fitInset = function () { m.fitBounds([[ib[1], ib[0]], [ib[3], ib[2]]], { animate: false, padding: [8, 8] }); };
      L.geoJSON(cfg.provincesFc, {
        interactive: false,
        filter: function (f) { return f.properties.code === spec.code; },
        style: function (f) { return { fillColor: provLayer.options.style(f).fillColor, color: '#e6edf7', weight: 1.5, fillOpacity: 1 }; },
        onEachFeature: function (f, l) { insetByCode.set(f.properties.code + ':' + k, l); }
      }).addTo(m);
      fitInset();
      var label = document.createElement('div');
      label.className = 'ioc-island-label inset-title';
      label.textContent = IOC.t(spec.label);
      el.appendChild(label);
      insets.push(m);
      if (global.ResizeObserver) new ResizeObserver(function () {
        if (el.hidden || !el.clientWidth || !el.clientHeight) return;  // hidden: no size
        m.invalidateSize();
        fitInset();
      }).observe(el);
    });
    insetEls.slice(insets.length).forEach(function (el) { el.hidden = true; el.dataset.unused = '1'; });

    /* ---------- province labels on regional views ---------- */
    function inRegion(code, region) { return (cfg.regions[code] || []).indexOf(region) >= 0; }
    var labelled = [];
    function showLabels(region) {
      labelled.forEach(function (l) { l.closeTooltip(); });
      labelled = [];
      if (!region) return;
      byCode.forEach(function (l, code) {
        if (!inRegion(code, region)) return;
        if (!l.getTooltip()) {
          l.bindTooltip(IOC.esc(shortName[code] || cfg.names[code] || code), {
            permanent: true, direction: 'center', className: 'wall-label', interactive: false, opacity: 1
          });
        }
        l.openTooltip(l.getCenter());
        labelled.push(l);
      });
      declutter();
    }

    /** Labels that would sit on one another: cities first, then the larger provinces keep
     * theirs; the others are hidden rather than printed over a neighbour's. */
    function declutter() {
      // a context label half outside the map (the East Sea on a regional view): not at all
      var box = map.getContainer().getBoundingClientRect();
      map.getContainer().querySelectorAll('.ioc-sea-label').forEach(function (el) {
        el.style.visibility = '';
        var r = el.getBoundingClientRect();
        if (r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom) el.style.visibility = 'hidden';
      });
      var kind = {};
      ((cfg.summary || {}).provinces || []).forEach(function (p) { kind[p.code] = p.kind; });
      var area = function (l) { var b = l.getBounds(); return (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth()); };
      var order = labelled.slice().sort(function (a, b) {
        var ca = kind[a.feature.properties.code] === 'Thành phố', cb = kind[b.feature.properties.code] === 'Thành phố';
        return (cb - ca) || (area(b) - area(a));
      });
      var placed = [];
      order.forEach(function (l) {
        var el = l.getTooltip() && l.getTooltip().getElement();
        if (!el) return;
        el.style.visibility = '';
        var r = el.getBoundingClientRect();
        var hit = placed.some(function (q) { return r.left < q.right && r.right > q.left && r.top < q.bottom && r.bottom > q.top; });
        if (hit) el.style.visibility = 'hidden'; else placed.push(r);
      });
    }
    map.on('zoomend moveend', function () { setTimeout(declutter, 0); });  // after the labels moved

    /** Room the map must leave free for ``bounds``: the inset on the right (national views)
     * and the legend — a column at the left or, when that leaves the land bigger (a wide
     * province), a band along the bottom; the legend takes that shape. */
    function fitPadding(withInset, bounds) {
      var size = map.getSize();
      var edge = 16;
      var right = edge;
      if (withInset && insetEl && !insetEl.hidden) right = Math.min(size.x / 3, insetEl.getBoundingClientRect().width + 8);
      var slot = document.querySelector('.legend-slot:not([hidden])');
      var left = { paddingTopLeft: [edge, edge], paddingBottomRight: [right, edge] };
      if (!slot) return left;
      slot.classList.remove('wide');
      var r = slot.getBoundingClientRect();
      left.paddingTopLeft[0] = Math.min(size.x / 3, r.width + 24);
      slot.classList.add('wide');
      var rw = slot.getBoundingClientRect();
      var below = { paddingTopLeft: [edge, edge], paddingBottomRight: [right, Math.min(size.y / 3, rw.height + 16)] };
      var b = bounds && L.latLngBounds(bounds);
      var zoomOf = function (pad) {
        return map.getBoundsZoom(b, false, L.point(pad.paddingTopLeft[0] + pad.paddingBottomRight[0],
          pad.paddingTopLeft[1] + pad.paddingBottomRight[1]));
      };
      var wide = b && b.isValid() && zoomOf(below) > zoomOf(left) + 0.2;  // clearly bigger only
      slot.classList.toggle('wide', !!wide);
      return wide ? below : left;
    }

    var communeLayer = L.geoJSON(null, {
      interactive: false,
      style: function (f) {
        return { fillColor: IOC.classify(f.properties.completion_pct, M.communes.breaks, M.communes.palette),
          color: '#0b1220', weight: 0.6, fillOpacity: 0.92 };
      }
    });

    /* ---------- views: the playlist, with "overdue" expanded at run time ---------- */
    var views = [];
    cfg.views.forEach(function (v) {
      if (v.kind === 'overdue') {
        for (var i = 0; i < cfg.overdueProvinces; i++) views.push(Object.assign({}, v, { slot: i }));
      } else views.push(v);
    });
    st.viewCount = views.length;
    var pills = document.querySelectorAll('#wall-views li');
    var legends = document.querySelectorAll('.legend-slot');

    function colourProvinces(values, m) {
      byCode.forEach(function (l, code) {
        var c = IOC.classify(values[code], m.breaks, m.palette);
        if (c !== l._iocFill) { l.setStyle({ fillColor: c }); l._iocFill = c; }
        [0, 1].forEach(function (k) {
          var il = insetByCode.get(code + ':' + k);
          if (il && il._iocFill !== c) { il.setStyle({ fillColor: c }); il._iocFill = c; }
        });
      });
    }

    function dimProvinces(focus) {
      byCode.forEach(function (l, code) {
        var want = focus ? (code === focus ? 'focus' : 'dim') : 'normal';
        if (l._iocMode === want) return;
        l._iocMode = want;
        if (want === 'normal') l.setStyle({ fillOpacity: 0.9, weight: 0.8, color: '#0b1220' });
        else if (want === 'dim') { l.setStyle({ fillColor: '#141d33', fillOpacity: 1, weight: 0.6, color: '#22304d' }); l._iocFill = null; }
        else { l.setStyle({ fillOpacity: 0, weight: 2.5, color: '#e6edf7' }); l.bringToFront(); }
      });
    }

    /* ---------- rankings: the same 2×5 rows, retexted ---------- */
    function fillRank(listId, items, m) {
      var rows = $(listId).children;
      var max = 0;
      items.forEach(function (it) { if (it.value > max) max = it.value; });
      for (var i = 0; i < rows.length; i++) {
        var li = rows[i];
        var it = items[i];
        li.hidden = !it;
        if (!it) continue;
        li.dataset.code = it.code;
        setText(li.children[0], String(it.rank));
        setText(li.children[1], IOC.shortName(it.name));
        setText(li.children[2], IOC.fmtUnit(it.value, m.decimals, m.unit));
        var w = m.unit === '%' ? it.value : (max ? 100 * it.value / max : 0);
        li.children[3].firstChild.style.transform = 'scaleX(' + Math.max(0, Math.min(100, w || 0)) / 100 + ')';
      }
    }

    /* ---------- the whole picture: central level, reporting, targets ---------- */
    st.whole = { ministries: cfg.agencies || [], reporting: cfg.health || [], targets: cfg.targets || [],
      will_miss: cfg.forecast || [], difficulties: cfg.difficulties || null };
    var WHOLE = { ministries: true, reporting: true, targets: true, will_miss: true, difficulties: true };

    /** "Khó khăn, vướng mắc": the scope's share of overdue tasks awaiting central guidance,
     * and its categories with open tasks, most first (the same rows, retexted). */
    function renderDifficulties(d) {
      if (!d || !$('diff-list')) return;
      var b = d.blocked_central || {};
      setText($('diff-pct'), b.pct === null || b.pct === undefined ? '—\u00a0%' : IOC.fmtUnit(b.pct, 0, '%'));
      setText($('diff-of'), IOC.t('diff_key_of').replace('{n}', IOC.fmt(b.overdue || 0, 0)).replace('{m}', IOC.fmt(b.overdue_total || 0, 0)));
      var cats = (d.categories || []).map(function (c, i) { return Object.assign({ i: i }, c); })
        .filter(function (c) { return c.open > 0; })
        .sort(function (a, c) { return (c.open - a.open) || (a.i - c.i); });
      var rows = $('diff-list').children;
      for (var i = 0; i < rows.length; i++) {
        var li = rows[i], c = cats[i];
        li.hidden = !c;
        if (!c) continue;
        li.dataset.cat = c.code;
        setText(li.children[0], cfg.lang === 'en' ? c.label_en : c.label);
        setText(li.children[1], IOC.fmt(c.open, 0));
        var text = IOC.fmt(c.overdue, 0) + ' ' + IOC.t('diff_overdue') +
          (c.suggested ? ' · ' + IOC.fmt(c.suggested, 0) + ' ' + IOC.t('diff_suggested') : '');
        if (li.children[2].textContent !== text) {
          li.children[2].innerHTML = '<b class="num"></b> ' + IOC.esc(IOC.t('diff_overdue')) +
            (c.suggested ? ' · <span class="num"></span> ' + IOC.esc(IOC.t('diff_suggested')) : '');
          li.children[2].children[0].textContent = IOC.fmt(c.overdue, 0);
          if (c.suggested) li.children[2].children[1].textContent = IOC.fmt(c.suggested, 0);
        }
      }
      $('diff-none').hidden = cats.length > 0;
      global.requestAnimationFrame(fitSide);
    }

    /** Will miss, worst first: the largest gap between the pace needed and the recent pace
     * (past the deadline: all open tasks), then the most open tasks due (as
     * maps.forecast_map.worst_first). */
    function gap(u) {
      var needed = u.needed_per_week === null || u.needed_per_week === undefined ? (u.open_due || 0) : u.needed_per_week;
      return needed - (u.pace_per_week || 0);
    }
    function worstFirst(units) {
      return units.slice().sort(function (a, b) {
        return (gap(b) - gap(a)) || ((b.open_due || 0) - (a.open_due || 0)) || (a.code < b.code ? -1 : 1);
      });
    }
    function fcRow(u, i, top) {
      var pw = function (v) { return v === null || v === undefined ? '—' : IOC.fmt(v, 2); };
      return { code: u.code, name: (shortName[u.code] ? (kindOf[u.code] || '') + ' ' + shortName[u.code] : (u.name || u.code)).trim(),
        text: pw(u.pace_per_week) + ' / ' + pw(u.needed_per_week), state: u['class'], rank: i + 1,
        bar: top > 0 ? Math.max(0, Math.min(1, gap(u) / top)) : 0 };
    }
    var asOfQ = (cfg.query && cfg.query.as_of) ? 'as_of=' + encodeURIComponent(cfg.query.as_of) : '';
    function withAsOf(url) { return asOfQ ? url + (url.indexOf('?') >= 0 ? '&' : '?') + asOfQ : url; }

    /** Rows with a text value (targets: met / not met), same 2×5 list. */
    function fillText(listId, items) {
      var rows = $(listId).children;
      for (var i = 0; i < rows.length; i++) {
        var li = rows[i];
        var it = items[i];
        li.hidden = !it;
        if (!it) continue;
        li.dataset.code = it.code;
        li.dataset.state = it.state || '';
        setText(li.children[0], String(it.rank));
        setText(li.children[1], IOC.shortName(it.name));
        setText(li.children[2], it.text);
        li.children[3].firstChild.style.transform = 'scaleX(' + (it.bar || 0) + ')';
      }
    }

    function renderWhole(v) {
      if (v.kind === 'difficulties') { renderDifficulties(st.whole.difficulties); return; }
      var topTitle, topSub, bottomTitle, bottomSub, days = { decimals: 0, unit: IOC.t('days') };
      $('rank-top').parentNode.classList.add('bad');
      if (v.kind === 'ministries') {
        var ag = st.whole.ministries;
        fillRank('rank-top', ag.filter(function (a) { return a.tasks_overdue > 0; }).slice(0, 5)
          .map(function (a, i) { return { code: a.code, name: a.name, value: a.tasks_overdue, rank: i + 1 }; }), { decimals: 0, unit: '' });
        var low = ag.filter(function (a) { return a.completion_pct !== null; })
          .sort(function (a, b) { return a.completion_pct - b.completion_pct || (a.code < b.code ? -1 : 1); });
        fillRank('rank-bottom', low.slice(0, 5).map(function (a, i) { return { code: a.code, name: a.name, value: a.completion_pct, rank: low.length - i }; }), M.completion);
        topTitle = IOC.t('central_overdue'); topSub = IOC.t('tasks');
        bottomTitle = IOC.t('central_low'); bottomSub = IOC.t('completion');
      } else if (v.kind === 'reporting') {
        var units = st.whole.reporting;
        var stale = units.filter(function (u) { return u.stale; });
        fillRank('rank-top', stale.slice(0, 5).map(function (u, i) { return { code: u.code, name: u.kind + ' ' + u.name, value: u.days_since_report, rank: i + 1 }; }), days);
        // what is missing, most first: 3 % missing, not 97 % complete
        var incomplete = units.filter(function (u) { return u.complete_pct !== null && u.complete_pct < 100; })
          .sort(function (a, b) { return a.complete_pct - b.complete_pct || (a.code < b.code ? -1 : 1); });
        fillRank('rank-bottom', incomplete.slice(0, 5).map(function (u, i) {
          return { code: u.code, name: u.kind + ' ' + u.name, value: Math.round((100 - u.complete_pct) * 10) / 10, rank: i + 1 };
        }), { decimals: 1, unit: '%' });
        if (!incomplete.length) {  // nothing missing: say so, rather than list the complete
          fillText('rank-bottom', [{ code: '', name: IOC.t('missing_none'), text: IOC.fmtUnit(0, 0, '%'), rank: '✓', bar: 0, state: 'met' }]);
        }
        topTitle = IOC.t('not_reported').replace('{n}', String(cfg.staleDays)); topSub = IOC.t('days');
        bottomTitle = IOC.t('missing_pct'); bottomSub = '';
      } else if (v.kind === 'will_miss') {
        var miss = worstFirst(st.whole.will_miss.filter(function (u) { return u['class'] === 'will_miss'; }));
        var risk = worstFirst(st.whole.will_miss.filter(function (u) { return u['class'] === 'at_risk'; }));
        var top = miss.length ? gap(miss[0]) : 0;
        var rows = miss.map(function (u, i) { return fcRow(u, i, top); });
        fillText('rank-top', rows.slice(0, 5));
        // the second card: the units at risk, or (none at risk) the next five that will miss
        fillText('rank-bottom', risk.length ? risk.slice(0, 5).map(function (u, i) { return fcRow(u, i, top); }) : rows.slice(5, 10));
        topTitle = IOC.t('view_will_miss') + ' (' + IOC.fmt(miss.length, 0) + ')'; topSub = IOC.t('fc_wall_sub');
        bottomTitle = risk.length ? IOC.t('fc_at_risk') + ' (' + IOC.fmt(risk.length, 0) + ')' : IOC.t('fc_wall_more');
        bottomSub = IOC.t('fc_wall_sub');
      } else {
        var ts = st.whole.targets.filter(function (t) {
          return !cfg.province || t.unit_code === cfg.province.code || byCode.has(t.unit_code);
        }).map(function (t, i) {
          return { code: t.unit_code, name: t.unit_name + ' · ' + (t.label || t.subject), text: IOC.t('target_' + t.state),
            state: t.state, rank: i + 1, bar: t.state === 'met' ? 1 : t.state === 'at_risk' ? 0.5 : 0 };
        });
        var bad = ts.filter(function (t) { return t.state !== 'met'; });
        fillText('rank-top', bad.slice(0, 5));
        fillText('rank-bottom', ts.filter(function (t) { return t.state === 'met'; }).slice(0, 5));
        topTitle = IOC.t('targets_title') + ' · ' + IOC.t('target_not_met'); topSub = '';
        bottomTitle = IOC.t('targets_title') + ' · ' + IOC.t('target_met'); bottomSub = '';
      }
      setText($('rank-top-title'), topTitle);
      setText($('rank-top-sub'), topSub);
      setText($('rank-bottom-title'), bottomTitle);
      setText($('rank-bottom-sub'), bottomSub);
      global.requestAnimationFrame(fitSide);
    }

    function colourWhole(v) {
      if (v.kind === 'reporting' && M.days_since) {
        var vals = {};
        st.whole.reporting.forEach(function (u) { vals[u.code] = u.days_since_report; });
        colourProvinces(vals, M.days_since);
      } else if (v.kind === 'difficulties' && M.blocked) {
        colourProvinces((st.whole.difficulties || {}).blocked_by_unit || {}, M.blocked);
      } else if (v.kind === 'will_miss' && M.forecast) {
        var idx = {};
        st.whole.will_miss.forEach(function (u) { idx[u.code] = M.forecast.classes.indexOf(u['class']); });
        colourProvinces(idx, M.forecast);
      } else colourProvinces(st.completion, M.completion);
    }

    function renderRanking(v) {
      var m, top, bottom, topSub, bottomSub;
      if (WHOLE[v.kind]) { renderWhole(v); return; }
      if (v.kind === 'provinces') {
        m = M.completion;
        var ranked = st.provinces.filter(function (p) { return p.completion_pct !== null && (!v.region || inRegion(p.code, v.region)); })
          .sort(function (a, b) { return b.completion_pct - a.completion_pct || (a.code < b.code ? -1 : 1); })
          .map(function (p, i) { return { code: p.code, name: p.kind + ' ' + p.name, value: p.completion_pct, rank: i + 1 }; });
        // four rows a card: a small region splits between "leading" and "to follow up"
        top = ranked.slice(0, Math.min(4, Math.ceil(ranked.length / 2)));
        bottom = ranked.slice(top.length).slice(-4).reverse();
        topSub = bottomSub = IOC.t('rank_sub_nq57').replace('{year}', String(cfg.year));
      } else if (v.kind === 'communes' && v.rank === 'completion') {
        m = M.completion;
        var rows = ((st.communeFc && st.communeFc.features) || []).map(function (f) { return f.properties; })
          .filter(function (p) { return p.completion_pct !== null && p.completion_pct !== undefined; })
          .sort(function (a, b) { return b.completion_pct - a.completion_pct || (a.code < b.code ? -1 : 1); })
          .map(function (p, i) { return { code: p.code, name: p.full_name, value: p.completion_pct, rank: i + 1 }; });
        top = rows.slice(0, 5);
        bottom = rows.length > 5 ? rows.slice(-5).reverse() : [];
        topSub = bottomSub = IOC.t('rank_sub_kh02');
      } else if (v.kind === 'indicator') {
        m = M[v.indicator];
        var items = (st.indicator[v.indicator] || {}).items || [];
        var list = items.filter(function (it) { return it.value !== null; })
          .map(function (it) { return { code: it.code, name: it.full_name || it.name, value: it.value, rank: it.rank }; });
        top = list.slice(0, 5);
        bottom = list.slice(-5).reverse();
        topSub = bottomSub = m.label;
      } else {
        var feats = (st.communeFc && st.communeFc.features) || [];
        var props = feats.map(function (f) { return f.properties; });
        var byOverdue = props.filter(function (p) { return p.tasks_overdue > 0; })
          .sort(function (a, b) { return b.tasks_overdue - a.tasks_overdue || (a.code < b.code ? -1 : 1); });
        top = byOverdue.slice(0, 5).map(function (p, i) { return { code: p.code, name: p.full_name, value: p.tasks_overdue, rank: i + 1 }; });
        var byPct = props.filter(function (p) { return p.completion_pct !== null; })
          .sort(function (a, b) { return a.completion_pct - b.completion_pct || (a.code < b.code ? -1 : 1); });
        bottom = byPct.slice(0, 5).map(function (p, i) { return { code: p.code, name: p.full_name, value: p.completion_pct, rank: byPct.length - i }; });
        fillRank('rank-top', top, { decimals: 0, unit: '' });
        $('rank-top').parentNode.classList.add('bad');
        fillRank('rank-bottom', bottom, M.communes);
        setText($('rank-top-title'), IOC.t('overdue'));
        setText($('rank-top-sub'), IOC.t('overdue_tasks_sub'));
        setText($('rank-bottom-title'), IOC.t('bottom5'));
        setText($('rank-bottom-sub'), IOC.t('rank_sub_kh02'));
        return;
      }
      $('rank-top').parentNode.classList.remove('bad');
      fillRank('rank-top', top, m);
      fillRank('rank-bottom', bottom, m);
      setText($('rank-top-title'), IOC.t('top5'));
      setText($('rank-bottom-title'), IOC.t('bottom5'));
      setText($('rank-top-sub'), topSub);
      setText($('rank-bottom-sub'), bottomSub);
      global.requestAnimationFrame(fitSide);
    }

    /* ---------- alerts: units that just turned (more) overdue ---------- */
    function addAlert(name, from, to) {
      var ul = $('wall-alerts');
      var none = ul.querySelector('li.none');
      if (none) ul.removeChild(none);
      var t = vnTime();
      var li = document.createElement('li');
      li.className = 'alert fresh';
      li.innerHTML = '<span class="st st-overdue">' + IOC.icon('alert') + '</span><span class="n"></span>' +
        '<span class="d"><b class="num"></b> · <span class="w"></span> · <span class="num"></span></span>';
      li.children[1].textContent = IOC.shortName(name);
      var d = li.children[2];
      d.children[0].textContent = from ? IOC.fmt(from, 0) + ' → ' + IOC.fmt(to, 0) : IOC.fmt(to, 0);
      d.children[1].textContent = from ? IOC.t('alert_more') : IOC.t('alert_new');
      d.children[2].textContent = pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes());
      ul.insertBefore(li, ul.firstChild);
      while (ul.children.length > MAX_ALERTS) {
        if (ul.lastChild.classList.contains('seed')) st.seedHidden = (st.seedHidden || 0) + 1;
        ul.removeChild(ul.lastChild);
      }
      fitAlerts();
    }

    /** The rail pages through its items (overdue units, then units reminded and still
     * overdue) instead of clipping them: as many whole items as fit make a page, and the
     * next page comes every PAGE_MS. "+n" counts the units not on this page. */
    var PAGE_MS = cfg.railPageMs || 8000;
    st.railPage = 0;
    function fitAlerts() {
      var rail = $('wall-rail');
      var more = $('wall-alerts-more');
      if (!rail || !more) return;
      var lists = rail.querySelectorAll('ul');
      var items = [];
      lists.forEach(function (ul) { ul.hidden = false; Array.prototype.forEach.call(ul.children, function (li) { li.hidden = false; items.push(li); }); });
      more.hidden = false;  // reserve its line while measuring
      var room = rail.clientHeight;
      if (!room) return;
      var pages = [[]], used = 0;
      var gap = parseFloat(getComputedStyle(rail).rowGap) || 0;  // between items, as between lists
      items.forEach(function (li) {
        var h = li.getBoundingClientRect().height + gap;
        if (pages[pages.length - 1].length && used + h > room + gap + 0.5) { pages.push([]); used = 0; }
        pages[pages.length - 1].push(li);
        used += h;
      });
      st.railPages = pages.length;
      if (st.railPage >= pages.length) st.railPage = 0;
      var page = pages[st.railPage];
      items.forEach(function (li) { li.hidden = page.indexOf(li) < 0; });
      lists.forEach(function (ul) { ul.hidden = !Array.prototype.some.call(ul.children, function (li) { return !li.hidden; }); });
      var seeds = items.filter(function (li) { return li.classList.contains('seed') || li.parentNode.id === 'wall-alerts'; });
      var shownSeeds = seeds.filter(function (li) { return !li.hidden; }).length;
      var total = seeds.length - shownSeeds + (st.seedHidden || 0);
      more.hidden = total === 0;
      more.textContent = IOC.t('more_alerts').replace('{n}', IOC.fmt(total, 0));
      setText($('wall-alerts-page'), pages.length > 1 ? (st.railPage + 1) + '/' + pages.length : '');
      st.alertsShown = shownSeeds;
      st.alertsMore = total;
    }
    /** The side column never overflows: when a view's cards (longer words in English, a
     * two-line view name) do not fit, fewer things show, by steps — the quarter table and
     * the fourth ranking row, then the third and the chart (ioc-wall.css, .tight-N). */
    var TIGHT = ['tight-1', 'tight-2', 'tight-3'];
    function fitSide() {
      var side = $('wall-side');
      if (!side) return;
      TIGHT.forEach(function (c) { side.classList.remove(c); });
      for (var k = 0; k < TIGHT.length && side.scrollHeight > side.clientHeight + 1; k++) side.classList.add(TIGHT[k]);
      st.tight = k;
      fitAlerts();
    }
    IOC.fitSide = fitSide;
    function nextRailPage() {
      st.railPage = (st.railPage + 1) % Math.max(1, st.railPages || 1);
      fitAlerts();
    }
    IOC.nextRailPage = nextRailPage;
    timers.rail = setInterval(nextRailPage, PAGE_MS);
    IOC.fitAlerts = fitAlerts;

    /** Provinces with overdue tasks on the page's basis — their own (NQ57, from the
     * summary) plus their communes' (KH02) — as maps.wall.overdue_by_province: alerts
     * when a count grows, and the provinces the overdue views visit. */
    function applyOverdueProvinces(list) {
      var next = {};
      list.forEach(function (p) { next[p.code] = p.tasks_overdue || 0; });
      if (st.prevProv) {
        list.forEach(function (p) {
          var before = st.prevProv[p.code] || 0;
          if (next[p.code] > before) addAlert(p.full_name, before, next[p.code]);
        });
      }
      st.prevProv = next;
      st.overdueAll = list;
      st.overdueList = list.slice(0, cfg.overdueProvinces);
    }

    function overdueFrom(provinces, communeFc) {
      if (cfg.province) {
        var mine = ((communeFc && communeFc.features) || []).map(function (f) { return f.properties; })
          .filter(function (p) { return p.province_code === cfg.province.code && p.tasks_overdue > 0; })
          .map(function (p) { return { code: p.code, full_name: p.full_name, tasks_overdue: p.tasks_overdue }; })
          .sort(function (a, b) { return b.tasks_overdue - a.tasks_overdue || (a.code < b.code ? -1 : 1); });
        st.kh02Overdue = mine.reduce(function (n, p) { return n + p.tasks_overdue; }, 0);
        setText($('kpi-overdue-kh02'), IOC.fmt(st.kh02Overdue, 0));
        return mine;
      }
      var kh02 = {};
      ((communeFc && communeFc.features) || []).forEach(function (f) {
        var p = f.properties;
        if (p.tasks_overdue) kh02[p.province_code] = (kh02[p.province_code] || 0) + p.tasks_overdue;
      });
      return provinces.map(function (p) {
        var own = p.tasks_overdue || 0;
        var com = kh02[p.code] || 0;
        return { code: p.code, full_name: p.kind + ' ' + p.name, tasks_overdue: own + com, nq57: own, kh02: com };
      }).filter(function (p) { return p.tasks_overdue > 0; })
        .sort(function (a, b) { return b.tasks_overdue - a.tasks_overdue || (a.code < b.code ? -1 : 1); });
    }

    function applyOverdueCommunes(fc) {
      var next = new Map();
      (fc.features || []).forEach(function (f) { next.set(f.properties.code, f.properties); });
      if (st.prevCom) {
        var n = 0;
        next.forEach(function (p, code) {
          var before = st.prevCom.get(code) || 0;
          if ((p.tasks_overdue || 0) > before && n++ < 5) {
            addAlert(p.full_name + (p.province_name ? ' · ' + p.province_name : ''), before, p.tasks_overdue);
          }
        });
      }
      var counts = new Map();
      next.forEach(function (p, code) { counts.set(code, p.tasks_overdue || 0); });
      st.prevCom = counts;
    }

    /* ---------- applying fresh data ---------- */
    function applySummary(s) {
      if (cfg.province) {  // a province's wall: its own row of the summary
        var row = (s.provinces || []).filter(function (p) { return p.code === cfg.province.code; })[0];
        if (!row) return;
        s = Object.assign({}, row, { plan02: { tasks_overdue: st.kh02Overdue,
          communes_all_groups_done: row.communes_all_groups_done, communes: row.communes } });
      }
      setText($('kpi-tasks'), IOC.fmt(s.tasks_total, 0));
      setText($('kpi-pct'), IOC.fmtUnit(s.completion_pct, 2, '%'));
      setText($('kpi-done'), IOC.fmt(s.tasks_completed, 0));
      setText($('kpi-overdue'), IOC.fmt(s.tasks_overdue, 0));
      $('kpi-bar').style.transform = 'scaleX(' + (s.completion_pct || 0) / 100 + ')';
      if (s.plan02) {
        if (s.plan02.tasks_overdue !== undefined) setText($('kpi-overdue-kh02'), IOC.fmt(s.plan02.tasks_overdue, 0));
        setText($('kpi-green'), IOC.fmt(s.plan02.communes_all_groups_done, 0));
        setText($('kpi-communes'), IOC.fmt(s.plan02.communes, 0));
      }
      if (s.central && $('kpi-central-pct')) {
        setText($('kpi-central-pct'), IOC.fmtUnit(s.central.completion_pct, 0, '%'));
        setText($('kpi-central-done'), IOC.fmt(s.central.tasks_completed, 0));
        setText($('kpi-central-total'), IOC.fmt(s.central.tasks_total, 0));
        setText($('kpi-central-overdue'), IOC.fmt(s.central.tasks_overdue, 0));
      }
      if (cfg.province) return;  // the map's units are communes: their own refresh
      st.provinces = s.provinces || [];
      st.provinces.forEach(function (p) { st.completion[p.code] = p.completion_pct; });
      var v = views[st.viewIndex];
      if (v.kind === 'provinces') { colourProvinces(st.completion, M.completion); renderRanking(v); }
    }

    function applyView(v, data) {
      if (WHOLE[v.kind]) {
        st.whole[v.kind] = v.kind === 'difficulties' ? data : v.kind === 'ministries' ? (data.agencies || []) :
          v.kind === 'reporting' || v.kind === 'will_miss' ? (data.units || []) : (data.targets || []);
        colourWhole(v);
        renderWhole(v);
        return;
      }
      if (v.kind === 'communes') {
        st.communeFc = data;
        (data.features || []).forEach(function (f) { st.completion[f.properties.code] = f.properties.completion_pct; });
        colourProvinces(st.completion, M.completion);
        renderRanking(v);
        return;
      }
      if (v.kind === 'indicator') {
        st.indicator[v.indicator] = data;
        var vals = {};
        (data.items || []).forEach(function (it) { vals[it.code] = it.value; });
        colourProvinces(vals, M[v.indicator]);
        renderRanking(v);
      } else if (v.kind === 'overdue') {
        var same = st.communeProvince === v.province;
        st.communeFc = data;
        st.communeProvince = v.province;
        if (same && communeLayer.getLayers().length) {
          var byC = new Map();
          (data.features || []).forEach(function (f) { byC.set(f.properties.code, f.properties); });
          communeLayer.eachLayer(function (l) {
            var p = byC.get(l.feature.properties.code);
            if (!p) return;
            var c = IOC.classify(p.completion_pct, M.communes.breaks, M.communes.palette);
            l.feature.properties = p;
            if (c !== l.options.fillColor) l.setStyle({ fillColor: c });
          });
        } else {
          communeLayer.clearLayers();
          communeLayer.addData(data);
        }
        renderRanking(v);
      }
    }

    function viewUrl(v) {
      if (v.kind === 'communes') {
        return withBasis(api + '/communes?province=' + cfg.province.code +
          '&fields=code,full_name,completion_pct,tasks_overdue&zoom=0&precision=0');
      }
      if (v.kind === 'ministries') return withAsOf(api + '/agencies');
      if (v.kind === 'reporting') return withAsOf(api + '/data-health?limit=1000');
      if (v.kind === 'targets') return withAsOf(api + '/targets');
      if (v.kind === 'will_miss') return withAsOf(api + '/forecast?level=province');
      if (v.kind === 'difficulties') return withAsOf(api + '/difficulties?unit=' + (cfg.province ? cfg.province.code : 'national'));
      if (v.kind === 'indicator') {
        return api + '/rankings?indicator=' + encodeURIComponent(v.indicator) + '&level=province' +
          (v.period ? '&period=' + encodeURIComponent(v.period) : '');
      }
      if (v.kind === 'overdue' && v.province) {
        return withBasis(api + '/communes?province=' + v.province +
          '&fields=code,full_name,completion_pct,tasks_overdue&zoom=9&precision=4');
      }
      return null;
    }

    st.provinces = (cfg.summary || {}).provinces || [];
    applyOverdueProvinces(cfg.overdue || []);
    st.seedHidden = Math.max(0, (cfg.overdue || []).length - $('wall-alerts').querySelectorAll('li.seed').length);

    /* ---------- the refresh loop (one timer; a failure never stops it) ---------- */
    // Lean lists of the units with ≥ 1 overdue task (geometry at the coarsest level, unused).
    var overdueUrl = withBasis(api + '/communes?status=overdue&fields=code,full_name,province_code,province_name,tasks_overdue&zoom=0&precision=0');
    var summaryUrl = withBasis(api + '/summary');

    function markOk() {
      st.lastOk = Date.now();
      st.failures = 0;
      if (st.stale) {
        st.stale = false;
        $('wall-stale').hidden = true;
        document.body.classList.remove('is-stale');
      }
      var t = vnTime(st.lastOk);
      setText($('wall-updated'), pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes()) + ' ' +
        pad(t.getUTCDate()) + '/' + pad(t.getUTCMonth() + 1));
    }

    function markStale() {
      st.failures++;
      if (!st.stale) {
        st.stale = true;
        $('wall-stale').hidden = false;
        document.body.classList.add('is-stale');
      }
    }

    function refresh() {
      clearTimeout(timers.refresh);
      timers.refresh = null;
      var v = views[st.viewIndex];
      var url = viewUrl(v);
      var jobs = [client.get(summaryUrl, cfg.force), client.get(overdueUrl, cfg.force)];
      if (url) jobs.push(client.get(url, cfg.force));
      return Promise.all(jobs).then(function (res) {
        if (res[0].changed) { st.changes++; applySummary(res[0].data); }
        if (res[1].changed) applyOverdueCommunes(res[1].data);
        if (res[0].changed || res[1].changed) {
          applyOverdueProvinces(overdueFrom(res[0].data.provinces || [], res[1].data));
          renderAlertSeeds();
        }
        if (res[2] && views[st.viewIndex] === v && (res[2].changed || st.pendingView === v)) {
          st.pendingView = null;
          applyView(v, res[2].data);
        }
        markOk();
      }).catch(function () {
        markStale();
      }).then(function () {
        st.cycles++;
        document.documentElement.dataset.wallCycles = String(st.cycles);
        var wait = st.stale ? Math.min(cfg.refreshMs, 5000) : cfg.refreshMs;
        timers.refresh = setTimeout(refresh, wait);
      });
    }

    /* ---------- rotation (moves the map only when the view changes) ---------- */
    function fit(bounds, withInset) {
      var ll = [[bounds[1], bounds[0]], [bounds[3], bounds[2]]];
      IOC.flyToBounds(map, ll, 1.2, fitPadding(withInset, ll));
    }

    /** The rail's standing entries: provinces overdue on the basis, most first. */
    function renderAlertSeeds() {
      var ul = $('wall-alerts');
      ul.querySelectorAll('li.seed, li.none').forEach(function (li) { ul.removeChild(li); });
      var list = st.overdueAll || [];
      var room = Math.max(0, MAX_ALERTS - ul.children.length);
      list.slice(0, room).forEach(function (p) {
        var li = document.createElement('li');
        li.className = 'alert seed';
        li.dataset.code = p.code;
        li.innerHTML = '<span class="st st-overdue">' + IOC.icon('alert') + '</span><span class="n"></span>' +
          '<span class="d"><b class="num"></b> <span class="w"></span></span>';
        li.children[1].textContent = IOC.shortName(p.full_name);
        li.children[2].children[0].textContent = IOC.fmt(p.tasks_overdue, 0);
        li.children[2].children[1].textContent = IOC.t(cfg.province ? 'rail_overdue_commune' : 'rail_overdue');
        ul.appendChild(li);
      });
      st.seedHidden = Math.max(0, list.length - room);
      if (!ul.children.length) {
        var none = document.createElement('li');
        none.className = 'alert none';
        none.textContent = IOC.t('alerts_none');
        ul.appendChild(none);
      }
      fitAlerts();
    }

    function showView(i, first) {
      var v = views[i];
      if (v.kind === 'overdue') {
        var target = st.overdueList[v.slot];
        if (!target) { return false; }
        v.province = target.code;
        v.label = IOC.t('view_overdue_of').replace('{name}', IOC.shortName(target.full_name)).replace('{n}', IOC.fmt(target.tasks_overdue, 0));
      }
      st.viewIndex = i;
      st.view = v;
      setText($('wall-view-label'), v.label);
      pills.forEach(function (li) { li.classList.toggle('active', li.dataset.view === v.id); });
      legends.forEach(function (el) { el.hidden = el.dataset.measure !== v.measure; });
      var national = v.kind === 'indicator' || WHOLE[v.kind] || v.kind === 'communes' || (v.kind === 'provinces' && !v.region);
      insetEls.forEach(function (el) { el.hidden = !national || el.dataset.unused === '1'; });
      $('wall-side').dataset.show = v.main ? 'main' : v.kind === 'difficulties' ? 'difficulties' : 'ranks';
      global.requestAnimationFrame(fitSide);
      showLabels(v.kind === 'provinces' ? v.region : null);
      if (v.kind === 'overdue') {
        if (!map.hasLayer(communeLayer)) communeLayer.addTo(map);
        dimProvinces(v.province);
        var pl = byCode.get(v.province);
        if (pl) IOC.flyToBounds(map, pl.getBounds(), 1.2, fitPadding(false, pl.getBounds()));
      } else {
        if (map.hasLayer(communeLayer)) map.removeLayer(communeLayer);
        dimProvinces(null);
        if (v.kind === 'provinces') { colourProvinces(st.completion, M.completion); renderRanking(v); }
        else if (WHOLE[v.kind]) { colourWhole(v); renderWhole(v); }
        else if (st.indicator[v.indicator]) applyView(v, st.indicator[v.indicator]);
        var b = v.bounds;
        if (first) {
          map.fitBounds([[b[1], b[0]], [b[3], b[2]]], Object.assign({ animate: false }, fitPadding(national, [[b[1], b[0]], [b[3], b[2]]])));
        } else fit(b, national);
      }
      var url = viewUrl(v);
      if (url) {
        var cached = client.entries.get(url);
        if (cached) applyView(v, cached.data);
        else st.pendingView = v;
      }
      return true;
    }

    /** The dwell bar: one transform transition per view (no layout per frame). */
    function progress() {
      var bar = $('wall-progress');
      bar.style.transitionDuration = '0ms';
      bar.style.transform = 'scaleX(0)';
      void bar.offsetWidth; // restart the CSS transition
      bar.style.transitionDuration = cfg.dwellMs + 'ms';
      bar.style.transform = 'scaleX(1)';
    }

    var onShow = null, dwellOff = false;  // meeting mode (below)
    function rotate() {
      clearTimeout(timers.rotate);
      if (dwellOff) return;
      for (var k = 1; k <= views.length; k++) {
        var next = (st.viewIndex + k) % views.length;
        if (showView(next, false)) break;
      }
      if (st.pendingView) refresh();
      progress();
      timers.rotate = setTimeout(rotate, cfg.dwellMs);
    }

    /* ---------- keys: the next / previous view (a remote's or clicker's arrows) ---------- */
    function step(d) {
      clearTimeout(timers.rotate);
      for (var k = 1; k <= views.length; k++) {
        var next = ((st.viewIndex + d * k) % views.length + views.length) % views.length;
        if (showView(next, false)) break;
      }
      if (st.pendingView) refresh();
      if (onShow) onShow(views[st.viewIndex]);
      if (views.length > 1 && cfg.dwellMs > 0 && !dwellOff) { progress(); timers.rotate = setTimeout(rotate, cfg.dwellMs); }
    }
    var STEP_KEYS = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 };
    document.addEventListener('keydown', function (e) {
      if (!STEP_KEYS[e.key] || e.altKey || e.ctrlKey || e.metaKey || views.length < 2) return;
      e.preventDefault();
      step(STEP_KEYS[e.key]);
    });

    /* ---------- clock ---------- */
    function tick() {
      var t = vnTime();
      setText($('wall-clock'), pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes()) + ':' + pad(t.getUTCSeconds()));
      setText($('wall-date'), (WEEKDAYS[cfg.lang] || WEEKDAYS.vi)[t.getUTCDay()] + ', ' + pad(t.getUTCDate()) + '/' +
        pad(t.getUTCMonth() + 1) + '/' + t.getUTCFullYear());
    }

    /** Stop every timer (tests and page unload). */
    IOC.stopWall = function () {
      clearTimeout(timers.refresh); clearTimeout(timers.rotate); clearInterval(timers.clock); clearInterval(timers.rail);
      timers.refresh = timers.rotate = timers.clock = null;
    };
    global.addEventListener('pagehide', IOC.stopWall);

    tick();
    timers.clock = setInterval(tick, 1000);
    showView(0, true);
    renderRanking(views[0]);
    fitAlerts();
    if (global.ResizeObserver) new ResizeObserver(fitSide).observe($('wall-side'));
    if (views.length > 1 && cfg.dwellMs > 0) {
      progress();
      timers.rotate = setTimeout(rotate, cfg.dwellMs);
    }
    refresh();
    meeting();
    document.documentElement.dataset.wallReady = '1';

    /* ---------- meeting mode: ?meeting=KEY follows, &present=1 leads (api/meetings.py) ---------- */
    function viewKey(v) { return v.id + (v.slot !== undefined ? ':' + v.slot : ''); }
    function meeting() {
      var q = new URLSearchParams(location.search);
      var key = q.get('meeting');
      if (!key || !/^[A-Za-z0-9_-]{4,64}$/.test(key) || !global.EventSource) return;
      var url = (cfg.api || '/api/v1') + '/meetings/' + encodeURIComponent(key);
      clearTimeout(timers.rotate);  // the presenter drives: no rotation of our own
      dwellOff = true;
      st.meeting = { key: key, presenter: q.get('present') === '1', seq: 0 };
      document.documentElement.dataset.meeting = st.meeting.presenter ? 'present' : 'follow';
      if (st.meeting.presenter) {
        var secretKey = 'iocmap-meeting-' + key;
        var secret = localStorage.getItem(secretKey);
        if (!secret) {
          var a = new Uint8Array(18); crypto.getRandomValues(a);
          secret = Array.from(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
          localStorage.setItem(secretKey, secret);
        }
        IOC.present = function (choice) {
          return fetch(url, { method: 'POST', body: JSON.stringify(choice),
            headers: { 'Content-Type': 'application/json', 'X-Meeting-Secret': secret } })
            .then(function (r) { st.meeting.status = r.status; return r; });
        };
        onShow = function (v) { IOC.present({ view: viewKey(v) }); };
        byCode.forEach(function (l, code) {
          l.on('click', function () { focusProvince(code); IOC.present({ province: code }); });
        });
        pills.forEach(function (li) {
          li.style.cursor = 'pointer';
          li.addEventListener('click', function () {
            for (var i = 0; i < views.length; i++) {
              if (views[i].id === li.dataset.view && showView(i, false)) { onShow(views[i]); break; }
            }
          });
        });
        IOC.present({ view: viewKey(views[st.viewIndex]) });
        return;
      }
      var es = new EventSource(url + '/events');
      st.meeting.opens = 0;
      es.addEventListener('open', function () { st.meeting.opens++; });
      es.addEventListener('state', function (e) {
        var s = JSON.parse(e.data);
        st.meeting.seq = s.seq;
        if (s.view) {
          for (var i = 0; i < views.length; i++) {
            if (viewKey(views[i]) === s.view) { showView(i, false); break; }
          }
        }
        if (s.province) focusProvince(s.province);
        document.documentElement.dataset.meetingSeq = String(s.seq);
      });
      IOC.meetingSource = es;
    }
    function focusProvince(code) {
      var pl = byCode.get(code);
      if (!pl) return;
      dimProvinces(code);
      IOC.flyToBounds(map, pl.getBounds(), 0.6, fitPadding(false, pl.getBounds()));
    }
  };
})(window);
