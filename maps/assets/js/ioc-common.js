/* iocmap — helpers shared by the map pages and the wall (no dependencies but Leaflet).
 * Why self-written: the pages must run offline from files we serve ourselves, and these
 * few helpers (Vietnamese numbers, ETag fetches, status icons) do not justify a framework. */
(function (global) {
  'use strict';
  var IOC = global.IOC || (global.IOC = {});

  /** The page config the server embedded as JSON. */
  IOC.config = function () {
    if (!IOC._config) {
      var el = document.getElementById('ioc-config');
      IOC._config = el ? JSON.parse(el.textContent) : {};
    }
    return IOC._config;
  };

  /** Whether the viewer asked for less motion (the system's "reduce motion" setting,
   * WCAG 2.3.3): the maps then jump to a place instead of flying there, and nothing pulses. */
  IOC.still = function () {
    return !!(global.matchMedia && global.matchMedia('(prefers-reduced-motion: reduce)').matches);
  };

  /** Move ``map`` to ``bounds``: a flight of ``seconds``, or a jump where motion is reduced. */
  IOC.flyToBounds = function (map, bounds, seconds, opts) {
    if (IOC.still()) map.fitBounds(bounds, Object.assign({ animate: false }, opts));
    else map.flyToBounds(bounds, Object.assign({ duration: seconds }, opts));
  };

  /** A number as the page's language writes it: 1.234,5 (vi) or 1,234.5 (en), as
   * maps.theme.fmt_number. Values come rounded by the server and are shown with those
   * decimals, so no figure is rounded twice. */
  IOC.fmt = function (value, decimals) {
    if (value === null || value === undefined || isNaN(value)) return '—';
    var d = decimals === undefined ? 1 : decimals;
    var en = IOC.config().lang === 'en';
    var neg = value < 0;
    var parts = Math.abs(value).toFixed(d).split('.');
    var int = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, en ? ',' : '.');
    return (neg ? '-' : '') + int + (parts[1] ? (en ? '.' : ',') + parts[1] : '');
  };

  /** A value with its unit ("56,9 %", "72,4 điểm", "12"). */
  IOC.fmtUnit = function (value, decimals, unit) {
    if (value === null || value === undefined) return '—';
    return IOC.fmt(value, decimals) + (unit ? '\u00a0' + unit : '');
  };

  /** ISO date (YYYY-MM-DD…) → dd/mm/yyyy. */
  IOC.fmtDate = function (iso) {
    if (!iso) return '—';
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    return m ? m[3] + '/' + m[2] + '/' + m[1] : iso;
  };

  IOC.esc = function (s) {
    return String(s === null || s === undefined ? '' : s)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  };

  /**
   * One cell of a file a page builds for a spreadsheet (CSV): text that Excel or
   * LibreOffice would run as a formula (starting with = + - @ tab or CR) gets a leading
   * apostrophe; numbers, and text that is just a number (-12.5), stay as they are.
   * The same rule as the server's downloads (geo/safe_text.spreadsheet_cell, OWASP).
   */
  IOC.spreadsheetCell = function (v) {
    var s = String(v === null || v === undefined ? '' : v);
    if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/.test(s)) return "'" + s;
    return s;
  };

  /** Template strings with {name} placeholders. */
  IOC.t = function (key, vars) {
    var s = (IOC.config().strings || {})[key] || key;
    if (vars) Object.keys(vars).forEach(function (k) { s = s.replace('{' + k + '}', vars[k]); });
    return s;
  };

  /** Diacritic-free search key, as geo.text.search_key (đ → d explicitly). */
  IOC.searchKey = function (text) {
    return String(text || '').normalize('NFC').replace(/đ/g, 'd').replace(/Đ/g, 'D')
      .normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/[^0-9a-z]+/g, ' ').trim();
  };

  var ICONS = {
    check: '<path d="M4 12.5l5 5L20 6.5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
    'check-clock': '<path d="M2.5 12.5l4 4 7.5-9" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/><circle cx="17.5" cy="16.5" r="5" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M17.5 14v2.7l1.8 1.1" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>',
    clock: '<circle cx="12" cy="12" r="8.5" fill="none" stroke="currentColor" stroke-width="2.2"/><path d="M12 7.5V12l3 2" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
    alert: '<path d="M12 3L22 20.5H2z" fill="currentColor"/><path d="M12 9.5v5" stroke="#0b1220" stroke-width="2.4" stroke-linecap="round"/><circle cx="12" cy="17.6" r="1.4" fill="#0b1220"/>'
  };

  /** Inline SVG icon (the second cue next to a status colour). */
  IOC.icon = function (name) {
    return '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">' + (ICONS[name] || '') + '</svg>';
  };

  /** A status badge: colour + icon + words (never colour alone). */
  IOC.statusBadge = function (status, label) {
    var st = IOC.config().status || {};
    var text = label || (st.labels || {})[status] || status;
    return '<span class="st st-' + IOC.esc(status) + '">' + IOC.icon((st.icons || {})[status]) +
      '<span>' + IOC.esc(text) + '</span></span>';
  };

  /** The class colour of a value (same rule as maps.choropleth.colour_for). */
  IOC.classify = function (value, breaks, palette) {
    if (value === null || value === undefined || !breaks || !breaks.length) return 'url(#ioc-hatch)';
    for (var i = 0; i < breaks.length; i++) if (value <= breaks[i]) return palette[i];
    return palette[palette.length - 1];
  };

  IOC.classIndex = function (value, breaks) {
    if (value === null || value === undefined || !breaks || !breaks.length) return 'nodata';
    for (var i = 0; i < breaks.length; i++) if (value <= breaks[i]) return String(i);
    return String(breaks.length - 1);
  };

  /** fetch() that remembers each URL's ETag and body: a 304 costs nothing to redraw.
   * Memory stays flat: one entry per URL, replaced on change. */
  IOC.ETagClient = function (timeoutMs) {
    this.timeoutMs = timeoutMs || 8000;
    this.entries = new Map();
  };
  IOC.ETagClient.prototype.get = function (url, force) {
    var prev = this.entries.get(url);
    var headers = { Accept: 'application/json' };
    if (prev && !force) headers['If-None-Match'] = prev.etag;
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, this.timeoutMs);
    var self = this;
    return fetch(url, { headers: headers, signal: ctl.signal, cache: 'no-store' })
      .then(function (r) {
        if (r.status === 304 && prev) return { changed: false, data: prev.data };
        if (!r.ok) throw new Error('HTTP ' + r.status + ' ' + url);
        var etag = r.headers.get('ETag');
        return r.json().then(function (data) {
          if (etag) self.entries.set(url, { etag: etag, data: data });
          return { changed: true, data: data };
        });
      })
      .finally(function () { clearTimeout(timer); });
  };

  /** Faint context under the units: neighbouring countries (Natural Earth via npm
   * world-atlas, vendored as vendor/world-atlas/context.js) on a sea-coloured map, and
   * the sea's name, so the country does not float in a void. Never interactive. */
  IOC.addContext = function (map, opts) {
    var o = opts || {};
    if (!map.getPane('ioc-context')) {
      var pane = map.createPane('ioc-context');
      pane.style.zIndex = 350;  // under Leaflet's overlay pane (400)
      pane.style.pointerEvents = 'none';
    }
    if (global.IOC_CONTEXT) {
      L.geoJSON(global.IOC_CONTEXT, {
        pane: 'ioc-context', interactive: false,
        style: function () { return { fillColor: '#1a2338', fillOpacity: 1, color: '#2b3857', weight: 0.8 }; }
      }).addTo(map);
    }
    if (o.labels) {
      var s = IOC.config().strings || {};
      L.marker(o.seaAt || [14.2, 112.2], {  // a page may place it (the wall: between coast and insets)
        pane: 'ioc-context', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'ioc-sea-label', html: IOC.esc(s.east_sea || ''), iconSize: null })
      }).addTo(map);
    }
  };

  /** GET JSON from the API, or from the data embedded by a standalone export. */
  IOC.getJSON = function (path) {
    var cfg = IOC.config();
    if (cfg.embedded && Object.prototype.hasOwnProperty.call(cfg.embedded, path)) {
      return Promise.resolve(cfg.embedded[path]);
    }
    if (!cfg.api) return Promise.reject(new Error('offline'));
    return fetch(cfg.api + path, { headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  };
})(window);
