/* Maps of the market pages: the collective's parcels, the investor's results moving with the map.
   Reads GeoJSON from <script type="application/json" id="map-data">; Leaflet is the vendored copy. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var kind = el.getAttribute("data-kind");
  var map = L.map(el, {scrollWheelZoom: false}).setView([29.7, 105.72], 12);
  var layer = null;
  var COLOURS = {listable: "#1b9e77", held: "#7570b3", blocked: "#d95f02", market: "#0b5cad"};

  function readData() {
    var node = document.getElementById("map-data");
    try { return node ? JSON.parse(node.textContent) : null; } catch (e) { return null; }
  }
  function colour(p) {
    if (kind !== "collective") return COLOURS.market;
    if (p.listing_state && p.listing_state !== "unlisted" && ["draft", "published", "under_offer"].indexOf(p.listing_state) >= 0) return COLOURS.held;
    return p.listable ? COLOURS.listable : COLOURS.blocked;
  }
  function rowOf(p) {
    return document.getElementById(kind === "collective" ? "row-" + p.parcel_code : "result-" + p.id);
  }
  function draw(data, fit) {
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON(data, {
      style: function (f) { var c = colour(f.properties); return {color: c, fillColor: c, weight: 2, fillOpacity: 0.45}; },
      onEachFeature: function (f, lyr) {
        lyr.on("click", function () {
          var row = rowOf(f.properties);
          if (!row) return;
          Array.prototype.forEach.call(document.querySelectorAll(".active"), function (n) { n.classList.remove("active"); });
          row.classList.add("active");
          row.scrollIntoView({block: "nearest"});
          var link = row.querySelector("a");
          if (link) link.focus({preventScroll: true});
        });
      }
    }).addTo(map);
    if (fit && layer.getLayers().length) map.fitBounds(layer.getBounds(), {padding: [20, 20], maxZoom: 17});
  }
  var first = readData();
  if (first) draw(first, true);
  window.lmMarketMap = {map: map, layer: function () { return layer; }};
  if (kind !== "investor") return;

  // Investor: the result list follows the map while "search as the map moves" is ticked.
  var form = document.getElementById("search-form");
  var follow = document.getElementById("f-follow");
  var list = document.getElementById("results-box");
  var seq = 0;
  function params(withBox) {
    var data = new FormData(form), out = new URLSearchParams();
    data.forEach(function (v, k) { if (v !== "" && k !== "bbox" && k !== "follow") out.append(k, v); });
    if (withBox) {
      var b = map.getBounds();
      out.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(6); }).join(","));
    }
    return out;
  }
  function refresh() {
    if (!follow || !follow.checked) return;
    var mine = ++seq, q = params(true);
    var box = form.querySelector("input[name=bbox]");
    if (box) box.value = q.get("bbox");
    fetch("/investor/search/results?" + q.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html == null || mine !== seq) return;
        list.innerHTML = html;
        draw(readData(), false);
        list.setAttribute("data-refreshed", String(mine));
      }).catch(function () {});
  }
  map.on("moveend", refresh);
})();
