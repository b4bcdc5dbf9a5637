/* iocmap — the OGC collection and items pages (f=html): a small Leaflet map of the
 * collection's extent or of the page's features, drawn from our own files only (no tiles
 * from elsewhere: the neighbouring countries come from vendor/world-atlas/context.js).
 * The features are the GeoJSON of the same page (config.geojson, same origin). */
(function () {
  'use strict';

  function config() {
    var el = document.getElementById('ioc-config');
    return el ? JSON.parse(el.textContent) : {};
  }

  function ready(map, n) {
    var el = document.getElementById('ogc-map');
    el.dataset.features = String(n);
    document.documentElement.dataset.mapReady = '1';
  }

  function start() {
    var cfg = config();
    var el = document.getElementById('ogc-map');
    if (!el || !window.L) return;
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    if (window.IOC_CONTEXT) {
      L.geoJSON(window.IOC_CONTEXT, {
        interactive: false,
        style: { color: '#4a5568', weight: 0.6, fillColor: '#1f2733', fillOpacity: 1 }
      }).addTo(map);
    }
    var b = cfg.bbox || [102, 8, 110, 23.5];
    var extent = [[b[1], b[0]], [b[3], b[2]]];
    map.fitBounds(extent);
    if (!cfg.geojson) {  // the collection page: its extent
      L.rectangle(extent, { color: '#56b4e9', weight: 2, fillOpacity: 0.08 }).addTo(map);
      ready(map, 0);
      return;
    }
    fetch(cfg.geojson, { headers: { Accept: 'application/geo+json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (doc) {
        var rows = {};
        document.querySelectorAll('#ogc-table tbody tr[data-id]').forEach(function (tr) {
          rows[tr.dataset.id] = tr;
        });
        var layer = L.geoJSON(doc, {
          style: { color: '#56b4e9', weight: 1, fillColor: '#56b4e9', fillOpacity: 0.25 },
          onEachFeature: function (f, lyr) {
            var name = (f.properties && f.properties.name) || '';
            lyr.bindTooltip(String(f.id) + ' — ' + name);
            lyr.on('click', function () {
              var tr = rows[String(f.id)];
              if (!tr) return;
              document.querySelectorAll('#ogc-table tr.hit').forEach(function (x) {
                x.classList.remove('hit');
              });
              tr.classList.add('hit');
              tr.scrollIntoView({ block: 'nearest' });
            });
          }
        }).addTo(map);
        var n = doc.type === 'Feature' ? 1 : (doc.features || []).length;
        if (n && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
        ready(map, n);
      })
      .catch(function (e) {
        el.dataset.error = String(e);
        ready(map, 0);
      });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
