// Paint the land one colour; hide or show what lies over the map (tests/wall_measure.py).
([paint, overlays]) => {
  const pane = IOC.wallMap.getPane('overlayPane');
  pane.querySelectorAll('path').forEach(p => {
    if (!p.dataset.land && !p.classList.contains('land')) {
      // units of the current view: provinces (not dimmed) or the drawn communes
      const dim = p.getAttribute('fill') === '#141d33' || p.getAttribute('fill-opacity') === '0';
      if (dim) return;
    }
    if (paint) { p.style.fill = '%LAND%'; p.style.fillOpacity = '1'; p.style.stroke = '%LAND%'; p.style.strokeOpacity = '1'; }
    else { p.style.fill = p.style.fillOpacity = p.style.stroke = p.style.strokeOpacity = ''; }
  });
  document.querySelectorAll('.wall-map .leaflet-tooltip, .wall-map .leaflet-marker-pane').forEach(el => {
    el.style.visibility = paint ? 'hidden' : '';
  });
  document.querySelectorAll('.wall-map > :not(.leaflet-container)').forEach(el => {
    el.style.visibility = overlays ? '' : 'hidden';
  });
}
