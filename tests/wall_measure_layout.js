// Text sizes, card boxes and overflow of the wall on screen (tests/wall_measure.py).
() => {
  const W = innerWidth, H = innerHeight;
  const wall = document.getElementById('ioc-wall');
  const shown = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const onScreen = r => r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < W && r.top < H;
  let smallest = 1e9, what = '';
  const cut = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.nodeValue.trim()) continue;
    const el = n.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'TITLE', 'NOSCRIPT'].includes(el.tagName) || el.closest('title, defs')) continue;
    if (!shown(el)) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (!onScreen(r)) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement && el.getScreenCTM) {
      const m = el.getScreenCTM(); px *= Math.sqrt(m.a * m.a + m.b * m.b);
    }
    if (px < smallest) { smallest = px; what = n.nodeValue.trim().slice(0, 40); }
    // cut: the text runs past a box that clips it (overflow hidden), e.g. a map or an inset
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ov = getComputedStyle(a);
      if (ov.overflowX === 'visible' && ov.overflowY === 'visible') continue;
      const c = a.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
        cut.push(n.nodeValue.trim().slice(0, 40) + ' (in ' + (a.id || a.className || a.tagName).toString().slice(0, 30) + ')');
      }
      break;
    }
  }
  const overflow = [];
  wall.querySelectorAll('*').forEach(el => {
    if (el.closest('.leaflet-pane, .leaflet-control-container') && !el.closest('.leaflet-tooltip, .ioc-island-label')) return;
    if (el instanceof SVGElement || !shown(el)) return;
    const cs = getComputedStyle(el);
    if (cs.display === 'inline' || el.clientWidth === 0) return;
    if (el.classList.contains('leaflet-container') || el.classList.contains('folium-map')) return;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      overflow.push((el.id || el.className || el.tagName) + ': ' + (el.textContent || '').trim().slice(0, 50)
        + ' [' + el.scrollWidth + 'x' + el.scrollHeight + ' > ' + el.clientWidth + 'x' + el.clientHeight + ']');
    }
  });
  const cards = [];
  document.querySelectorAll('.wall-card, .wall-kpis .kpi, .legend-slot:not([hidden]) > *, .wall-inset, .wall-head, .wall-foot')
    .forEach(el => {
      if (!shown(el)) return;
      const r = el.getBoundingClientRect();
      if (onScreen(r)) cards.push({name: (el.dataset.card || el.id || el.className).slice(0, 30), l: r.left, t: r.top, r: r.right, b: r.bottom});
    });
  const meets = [];
  for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
    const a = cards[i], b = cards[j];
    if (a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1) meets.push(a.name + ' × ' + b.name);
  }
  const m = document.getElementById('wall-map-slot').getBoundingClientRect();
  overflow.push(...cut.map(c => 'cut: ' + c));
  return {smallest, what, overflow, meets, cards: cards.length,
          mapShare: m.width * m.height / (W * H), map: [m.left, m.top, m.right, m.bottom]};
}
