// The live map: draws the typed view of /v1/view at the places of
// /v1/layout, keeps it current from the state records of /v1/stream, and
// lists the events (those before the page opened from /v1/recent). Back
// in time, it draws /v1/view?at=T and lists the archive's events before T
// (/v1/events), change by change.
"use strict";
(function () {
  const MAX_ROWS = 2000, MAX_EVENTS = 5000, FLASH_MS = 2500;
  const base = location.pathname.replace(/\/[^/]*$/, "");
  const $ = (id) => document.getElementById(id);
  const feed = $("feed"), filterInput = $("filter"), statusEl = $("status");
  const FLAG_B = 1, FLAG_E = 2, FLAG_V = 4;
  const AREA_COLOURS = ["#5c6bc0", "#26a69a", "#ef6c00", "#8d6e63", "#ec407a", "#7cb342", "#00acc1", "#fdd835"];

  // The model: per area, routers (their own record, "core", and their
  // routes by "type prefix") and networks, as lsdb.Replica keeps them.
  let areas = new Map();
  let epoch = "", seq = 0, retry = 500, ws = null, past = null;
  let events = []; // the recent events, oldest first: {seq, area, ev, before}
  let layout = new Map(); // the server's places, by key
  let cy = null, unit = 10;
  let self = "", pathFrom = ""; // the agent's router (from /v1/view), and a start the user picked
  const stats = { firstDraw: 0, script: 0, fetched: 0, loaded: 0, apply: [], frame: [], resnapshots: 0, flashes: [], csp: [], steps: [] };
  document.addEventListener("securitypolicyviolation", (e) => stats.csp.push(e.violatedDirective + " " + e.blockedURI));

  function setStatus(text, ok) {
    statusEl.textContent = text;
    statusEl.className = ok ? "ok" : "bad";
  }

  // ---- Addresses and prefixes.
  function ip4(s) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return null;
    const b = m.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }
  function prefix4(s) {
    const [a, l] = s.split("/");
    const x = ip4(a), bits = l === undefined ? 32 : Number(l);
    if (x === null || !/^\d+$/.test(l === undefined ? "32" : l) || bits > 32) return null;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return { addr: (x & mask) >>> 0, bits, mask };
  }
  function contains(p, x) { return ((x & p.mask) >>> 0) === p.addr; }

  // ---- The model.
  function area(id) {
    let a = areas.get(id);
    if (!a) { a = { routers: new Map(), networks: new Map() }; areas.set(id, a); }
    return a;
  }
  function routeKey(type, prefix) { return type + " " + (prefix.includes("/") ? prefix : prefix + "/32"); }

  function loadView(view) {
    areas = new Map();
    for (const a of view.areas || []) {
      const m = area(a.id);
      for (const r of a.routers || []) {
        const rr = { core: { id: r.id, lsa: !!r.lsa, flags: r.flags || 0, links: r.links || [] }, routes: new Map() };
        for (const l of r.summaries || []) rr.routes.set(routeKey(l.kind === "xrouter" ? 4 : 3, l.id), { summaries: [l] });
        for (const x of r.externals || []) rr.routes.set(routeKey(5, x.prefix), { externals: [x] });
        for (const x of r.nssa || []) rr.routes.set(routeKey(7, x.prefix), { nssa: [x] });
        m.routers.set(r.id, rr);
      }
      for (const n of a.networks || []) m.networks.set(n.prefix, n);
    }
  }

  // applyRecord applies a state record to the model and returns the map
  // elements it may have changed.
  function applyRecord(env) {
    const a = area(env.area);
    if (env.network !== undefined) {
      if (env.state) a.networks.set(env.network, env.state); else a.networks.delete(env.network);
      return { area: env.area, nodes: [netKey(env.network, env.area)] };
    }
    let rr = a.routers.get(env.router);
    if (!rr) { rr = { core: null, routes: new Map() }; a.routers.set(env.router, rr); }
    if (env.route) {
      const k = routeKey(env.route.type, env.route.prefix);
      if (env.state) rr.routes.set(k, env.state); else rr.routes.delete(k);
    } else {
      rr.core = env.state ? { id: env.state.id, lsa: !!env.state.lsa, flags: env.state.flags || 0, links: env.state.links || [] } : null;
    }
    if (!rr.core && rr.routes.size === 0) a.routers.delete(env.router);
    return { area: env.area, nodes: [env.router], routesOnly: !!env.route };
  }

  function netKey(prefix, areaID) { return prefix + "@" + areaID; }

  // What the map draws of a router, over its areas.
  function routerInfo(id) {
    let flags = 0, externals = 0, inAreas = [];
    for (const [aid, a] of areas) {
      const rr = a.routers.get(id);
      if (!rr) continue;
      inAreas.push(aid);
      if (rr.core) flags |= rr.core.flags;
      for (const r of rr.routes.values()) externals += (r.externals || []).length + (r.nssa || []).length;
    }
    return { flags, externals, areas: inAreas };
  }
  // An ASBR: its Router-LSA's E bit, or the external (or NSSA) routes it
  // originates, which only an ASBR does: the past map's views, rebuilt
  // from snapshots that carry no flags, know it by those.
  function isASBR(info) { return !!(info.flags & FLAG_E) || info.externals > 0; }

  // The map's links that touch vertex key in area aid, as OSPF's graph has
  // them (topo.Build): a router link counts when the far end links back,
  // a network link when the network lists the router. Parallel links are
  // one, with the least cost each way.
  function linksAt(aid, key) {
    const a = areas.get(aid), out = new Map();
    if (!a) return out;
    const add = (u, v, cuv, cvu) => {
      const [s, t, cst, cts] = u < v ? [u, v, cuv, cvu] : [v, u, cvu, cuv];
      const id = aid + "|" + s + "|" + t;
      const e = out.get(id);
      if (!e) out.set(id, { id, source: s, target: t, area: aid, st: cst, ts: cts });
      else { e.st = Math.min(e.st, cst); e.ts = Math.min(e.ts, cts); }
    };
    const at = key.indexOf("@");
    if (at >= 0) { // a network: its members that link to it
      const p = key.slice(0, at), n = a.networks.get(p);
      if (!n) return out;
      for (const rid of n.routers || []) {
        const rr = a.routers.get(rid);
        for (const l of (rr && rr.core && rr.core.links) || []) {
          if (l.kind === "network" && l.id === p) add(rid, key, l.metric, 0);
        }
      }
      return out;
    }
    const rr = a.routers.get(key);
    for (const l of (rr && rr.core && rr.core.links) || []) {
      if (l.kind === "router") {
        const far = a.routers.get(l.id);
        let back = null;
        for (const m of (far && far.core && far.core.links) || []) {
          if (m.kind === "router" && m.id === key) back = back === null ? m.metric : Math.min(back, m.metric);
        }
        if (back !== null && l.id !== key) add(key, l.id, l.metric, back);
      } else if (l.kind === "network") {
        const n = a.networks.get(l.id);
        if (n && (n.routers || []).includes(key)) add(key, netKey(l.id, aid), l.metric, 0);
      }
    }
    return out;
  }

  // ---- Drawing.
  function areaColour(aid) {
    const ids = Array.from(areas.keys()).sort();
    const i = ids.indexOf(aid);
    return AREA_COLOURS[(i < 0 ? 0 : i) % AREA_COLOURS.length];
  }
  function routerData(id) {
    const info = routerInfo(id);
    const abr = !!(info.flags & FLAG_B) || info.areas.length > 1;
    return {
      id, kind: "router", label: id, ext: info.externals,
      colour: abr ? "#8e24aa" : areaColour(info.areas[0] || "0.0.0.0"),
      shape: abr ? "diamond" : "ellipse",
      asbr: isASBR(info), abr, self: id === self,
      size: id === self ? 2 : abr ? 1.6 : 1,
    };
  }
  function networkData(key) {
    const at = key.indexOf("@");
    return { id: key, kind: "network", label: key.slice(0, at), colour: "#78909c", shape: "round-rectangle", size: 0.9 };
  }
  function edgeLabel(e) {
    if (e.target.includes("@")) return String(e.st);
    return e.st === e.ts ? String(e.st) : e.st + "/" + e.ts;
  }
  function edgeData(e) { return { id: e.id, source: e.source, target: e.target, area: e.area, st: e.st, ts: e.ts, label: edgeLabel(e), colour: "#b0bec5" }; }

  function styles() {
    return [
      { selector: "node", style: {
        "background-color": "data(colour)", shape: "data(shape)", "border-color": "#ffffff", "border-width": Math.max(1, unit / 12),
        width: (n) => unit * n.data("size"), height: (n) => unit * n.data("size"),
        label: "data(label)", "font-size": unit * 0.6, "min-zoomed-font-size": 11, color: "#37474f",
        "text-valign": "bottom", "text-margin-y": 2,
      } },
      { selector: "node[?asbr]", style: { "border-color": "#ff8f00", "border-width": unit / 4 } },
      { selector: "node[?self]", style: { shape: "star", "background-color": "#00897b", "min-zoomed-font-size": 1, "z-index": 7 } },
      { selector: "edge", style: {
        width: Math.max(1, unit / 8), "line-color": "data(colour)", "curve-style": "haystack", "haystack-radius": 0,
        label: "data(label)", "font-size": unit * 0.5, "min-zoomed-font-size": 11, color: "#546e7a",
        "text-background-color": "#ffffff", "text-background-opacity": 0.8,
      } },
      { selector: ".fade", style: { "transition-property": "line-color, width, border-color, border-width", "transition-duration": "1.2s" } },
      { selector: "edge.added", style: { "line-color": "#2e7d32", width: unit / 2.5, "z-index": 9 } },
      { selector: "edge.removed", style: { "line-color": "#c62828", width: unit / 2.5, "z-index": 9 } },
      { selector: "node.added", style: { "border-color": "#2e7d32", "border-width": unit / 3 } },
      { selector: "node.removed", style: { "border-color": "#c62828", "border-width": unit / 3, opacity: 0.6 } },
      { selector: ".dim", style: { opacity: 0.12 } },
      { selector: "node.nb", style: { "border-color": "#fbc02d", "border-width": unit / 3.5, "z-index": 8 } },
      { selector: "node.hit", style: { "background-color": "#fbc02d", "border-color": "#000", "border-width": unit / 4, width: unit * 2.4, height: unit * 2.4, "font-size": unit * 1.3, "min-zoomed-font-size": 1, "z-index": 10, "text-background-color": "#fff", "text-background-opacity": 0.9 } },
      { selector: "edge.nb", style: { "line-color": "#fbc02d", width: unit / 3.5, "z-index": 8 } },
      { selector: "edge.path", style: { "line-color": "#1565c0", width: unit / 2.5, "z-index": 9, label: "data(label)", "min-zoomed-font-size": 1 } },
      { selector: "node.path", style: { "border-color": "#1565c0", "border-width": unit / 3.5, "z-index": 9, "min-zoomed-font-size": 1 } },
      { selector: "node.lost", style: { "background-color": "#c62828", "z-index": 9 } },
      { selector: "node.changed", style: { "background-color": "#ff8f00", "z-index": 9 } },
      { selector: ".failed", style: { "line-color": "#000", "background-color": "#000", "line-style": "dashed", width: unit / 3, "z-index": 10 } },
      { selector: "node.at", style: { "border-color": "#ff6f00", "border-width": unit / 2.5, "min-zoomed-font-size": 1, "z-index": 10 } },
      { selector: "edge.at-added", style: { "line-color": "#2e7d32", width: unit / 2.5, "z-index": 9 } },
      { selector: "edge.ghost", style: { "line-color": "#c62828", "line-style": "dashed", width: unit / 3, "z-index": 9, label: "" } },
      { selector: "node:selected", style: { "border-color": "#d50000", "border-width": unit / 3, "min-zoomed-font-size": 1, "z-index": 11 } },
    ];
  }

  // place returns where a vertex new to the map goes: its server place, or
  // next to the vertices it links to, or outside the map.
  function place(key, neighbours) {
    const p = layout.get(key);
    if (p) return { x: p[0], y: p[1] };
    let x = 0, y = 0, k = 0;
    for (const n of neighbours) {
      const e = cy.getElementById(n);
      if (e.nonempty()) { const q = e.position(); x += q.x; y += q.y; k++; }
    }
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    const ang = (h % 3600) / 3600 * 2 * Math.PI;
    if (k > 0) {
      const r = unit * 4 * (0.6 + 0.3 * ((h >>> 12) % 100) / 100);
      return { x: x / k + r * Math.cos(ang), y: y / k + r * Math.sin(ang) };
    }
    const bb = cy.nodes().boundingBox();
    const cx = (bb.x1 + bb.x2) / 2 || 0, cyy = (bb.y1 + bb.y2) / 2 || 0;
    const r = Math.max(bb.w || 0, bb.h || 0) / 2 + unit * 8;
    return { x: cx + r * Math.cos(ang), y: cyy + r * Math.sin(ang) };
  }

  // elementsOf returns every node and link of the model, at their places
  // (positions: the current ones, then the server's).
  function elementsOf(positions) {
    const nodes = [], edges = new Map(), seen = new Set();
    for (const [aid, a] of areas) {
      for (const id of a.routers.keys()) {
        if (!seen.has(id)) { seen.add(id); nodes.push({ group: "nodes", data: routerData(id) }); }
      }
      for (const p of a.networks.keys()) nodes.push({ group: "nodes", data: networkData(netKey(p, aid)) });
      for (const id of a.routers.keys()) for (const [eid, e] of linksAt(aid, id)) edges.set(eid, e);
    }
    // Places: known ones, then the others near their neighbours.
    const pos = new Map(), adj = new Map();
    for (const e of edges.values()) {
      (adj.get(e.source) || adj.set(e.source, []).get(e.source)).push(e.target);
      (adj.get(e.target) || adj.set(e.target, []).get(e.target)).push(e.source);
    }
    for (const n of nodes) {
      const p = positions.get(n.data.id) || layout.get(n.data.id);
      if (p) pos.set(n.data.id, Array.isArray(p) ? { x: p[0], y: p[1] } : p);
    }
    for (let round = 0; round < 50; round++) {
      let moved = false;
      for (const n of nodes) {
        if (pos.has(n.data.id)) continue;
        const near = (adj.get(n.data.id) || []).map((m) => pos.get(m)).filter(Boolean);
        if (near.length === 0) continue;
        let x = 0, y = 0;
        for (const q of near) { x += q.x; y += q.y; }
        const h = hash(n.data.id), ang = (h % 3600) / 3600 * 2 * Math.PI;
        pos.set(n.data.id, { x: x / near.length + unit * 3 * Math.cos(ang), y: y / near.length + unit * 3 * Math.sin(ang) });
        moved = true;
      }
      if (!moved) break;
    }
    let i = 0;
    for (const n of nodes) {
      if (!pos.has(n.data.id)) { const a = i++ * 2.39996; pos.set(n.data.id, { x: unit * 6 * Math.sqrt(i) * Math.cos(a), y: unit * 6 * Math.sqrt(i) * Math.sin(a) }); }
      n.position = pos.get(n.data.id);
    }
    return nodes.concat(Array.from(edges.values(), (e) => ({ group: "edges", data: edgeData(e) })));
  }
  function hash(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0; return h; }

  // unitOf sizes nodes from the places: a fraction of a typical link.
  function unitOf(els) {
    const pos = new Map();
    for (const e of els) if (e.group === "nodes") pos.set(e.data.id, e.position);
    const ls = [];
    for (const e of els) {
      if (e.group !== "edges") continue;
      const a = pos.get(e.data.source), b = pos.get(e.data.target);
      if (a && b) ls.push(Math.hypot(a.x - b.x, a.y - b.y));
    }
    ls.sort((x, y) => x - y);
    return ls.length ? Math.max(4, ls[ls.length >> 1] * 0.18) : 10;
  }

  // draw replaces the whole map by the model (on load, a new snapshot, a
  // view of the past), keeping the places of what it already shows.
  function draw() {
    const positions = new Map();
    if (cy) cy.nodes().forEach((n) => { positions.set(n.id(), Object.assign({}, n.position())); });
    const selected = cy ? cy.$(":selected").map((n) => n.id()) : [];
    const els = elementsOf(positions);
    if (!cy) {
      unit = unitOf(els);
      cy = cytoscape({
        container: $("map"), elements: els, layout: { name: "preset" }, style: styles(),
        minZoom: 0.02, maxZoom: 8, wheelSensitivity: 0.3, textureOnViewport: true, hideEdgesOnViewport: false,
        pixelRatio: 1, autoungrabify: true, boxSelectionEnabled: false,
      });
      bindMap();
      // The map's box changes when the bar above it wraps or the window
      // is resized: Cytoscape must know, or clicks land off their nodes.
      if (window.ResizeObserver) new ResizeObserver(() => cy.resize()).observe($("map"));
      cy.fit(undefined, 20);
    } else {
      cy.batch(() => { cy.elements().remove(); cy.add(els); });
    }
    idsDirty = true;
    $("legend-self").hidden = !self || cy.getElementById(self).empty();
    renderCounters();
    renderAreas();
    // What was selected is shown again, as it is in this map.
    if (selected.length && cy.getElementById(selected[0]).nonempty()) select(selected[0]);
  }

  // update applies a change of the model to the map where it happened:
  // links that appear flash green, links that go flash red and leave,
  // changed costs are relabelled; nothing else moves.
  function update(touched) {
    const aid = touched.area;
    idsDirty = true;
    cy.batch(() => {
      for (const key of touched.nodes) {
        const isNet = key.includes("@");
        const exists = isNet ? area(aid).networks.has(key.slice(0, key.indexOf("@"))) : routerInfo(key).areas.length > 0;
        const next = exists && !touched.routesOnly ? linksAt(aid, key) : new Map();
        let node = cy.getElementById(key);
        if (exists && node.hasClass("removed")) { // it left a moment ago and came back
          node.removeClass("removed");
          flash(node, "added");
        }
        if (exists && node.empty()) {
          const nbs = Array.from(next.values(), (e) => (e.source === key ? e.target : e.source));
          node = cy.add({ group: "nodes", data: isNet ? networkData(key) : routerData(key), position: place(key, nbs) });
          if (nbs.length === 0 && !layout.has(key)) node.scratch("lonely", true); // placed outside: goes by its first link
          flash(node, "added");
        } else if (exists && !isNet) {
          node.data(routerData(key));
        }
        if (touched.routesOnly) continue;
        const old = node.nonempty() ? node.connectedEdges().filter((e) => e.data("area") === aid && !e.hasClass("removed")) : cy.collection();
        old.forEach((e) => {
          const n = next.get(e.id());
          if (!n) { flash(e, "removed"); return; }
          if (n.st !== e.data("st") || n.ts !== e.data("ts")) e.data({ st: n.st, ts: n.ts, label: edgeLabel(n) });
          next.delete(e.id());
        });
        for (const e of next.values()) {
          const ends = [e.source, e.target].every((k) => cy.getElementById(k).nonempty());
          if (!ends) continue;
          const dead = cy.getElementById(e.id);
          if (dead.nonempty()) dead.remove(); // it left a moment ago and came back
          // A new vertex that came without links, its first link now
          // here: it goes next to the far end.
          for (const [u, v] of [[e.source, e.target], [e.target, e.source]]) {
            const n = cy.getElementById(u);
            if (n.scratch("lonely")) { n.removeScratch("lonely"); n.position(place("~" + u, [v])); }
          }
          flash(cy.add({ group: "edges", data: edgeData(e) }), "added");
        }
        if (!exists && node.nonempty()) flash(node, "removed");
      }
    });
    renderCounters();
  }

  // flash marks an element added (green) or removed (red) for a moment;
  // a removed one then leaves the map.
  function flash(el, how) {
    el.removeClass("added removed fade").addClass(how);
    stats.flashes.push({ id: el.id(), how, at: performance.now() });
    if (stats.flashes.length > 200) stats.flashes.shift();
    setTimeout(() => {
      if (el.removed()) return;
      if (how === "removed" && el.hasClass("removed")) {
        if (el.isNode()) el.connectedEdges().remove();
        el.remove();
      } else if (el.hasClass(how)) { // fades back to its colour
        el.addClass("fade").removeClass(how);
        setTimeout(() => el.removeClass("fade"), 1300);
      }
    }, FLASH_MS);
  }

  function renderCounters() {
    let routers = new Set(), networks = 0, links = 0, externals = 0;
    for (const a of areas.values()) {
      for (const [id, rr] of a.routers) {
        routers.add(id);
        if (rr.core) links += rr.core.links.length;
        for (const r of rr.routes.values()) externals += (r.externals || []).length + (r.nssa || []).length;
      }
      networks += a.networks.size;
    }
    $("n-routers").textContent = routers.size;
    $("n-networks").textContent = networks;
    $("n-links").textContent = links;
    $("n-externals").textContent = externals;
  }
  function renderAreas() {
    const el = $("areas");
    el.textContent = "";
    if (areas.size < 2) return;
    for (const aid of Array.from(areas.keys()).sort()) {
      const s = document.createElement("span");
      s.className = "area-swatch";
      s.style.background = areaColour(aid);
      el.appendChild(s);
      el.appendChild(document.createTextNode("area " + aid));
    }
  }

  // ---- The list of events.
  function describe(ev) {
    const change = ev.added || ev.removed;
    if (ev.entity.type === "network") {
      return { what: "network " + ev.entity.id, detail: (ev.added ? "router attached: " : "router detached: ") + change.router, keys: [ev.entity.id, change.router] };
    }
    const kind = Object.keys(change.link)[0];
    const l = change.link[kind];
    let detail = kind + " " + l.id + (l.metric !== undefined ? " metric " + l.metric : " metric2 " + l.metric2);
    if (l.via) detail += " via " + l.via;
    return { what: "router " + ev.entity.id, detail, keys: [ev.entity.id, l.id] };
  }
  function matches(row) {
    const f = filterInput.value.trim();
    return f === "" || row.dataset.keys.split(" ").some((k) => k.includes(f));
  }
  function row(item) {
    const ev = item.ev, d = describe(ev);
    const tr = document.createElement("tr");
    tr.className = (ev.added ? "added" : "removed") + (item.before ? " before" : "") + (item.past ? " past" : "") + (item.at ? " at" : "");
    tr.dataset.keys = d.keys.join(" ");
    if (item.past) tr.dataset.ts = ev.timestamp; else tr.dataset.seq = item.seq;
    const when = new Date(ev.timestamp).toISOString();
    tr.title = when.replace("T", " ").replace("Z", " UTC") + (item.past ? " (from the archive)" : " (sequence number " + item.seq + ")");
    const cells = [when.slice(11, 19), ev.added ? "+" : "\u2212", d.what, d.detail];
    ["time", "sign", "what", "detail"].forEach((c, i) => {
      const td = document.createElement("td");
      td.className = c;
      td.textContent = cells[i];
      tr.appendChild(td);
    });
    if (!matches(tr)) tr.classList.add("hidden");
    return tr;
  }
  function remember(item) {
    events.push(item);
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  }
  function show(item) {
    remember(item);
    feed.insertBefore(row(item), feed.firstChild);
    while (feed.childElementCount > MAX_ROWS) feed.removeChild(feed.lastChild);
    $("empty").style.display = "none";
    updateShown();
  }
  function showRecent(items) {
    const frag = document.createDocumentFragment();
    for (let i = items.length - 1; i >= 0 && frag.childNodes.length < MAX_ROWS; i--) frag.appendChild(row(items[i]));
    items.forEach(remember);
    feed.textContent = "";
    feed.appendChild(frag);
    if (items.length) $("empty").style.display = "none";
    updateShown();
  }
  function updateShown() {
    const f = filterInput.value.trim();
    $("shown").textContent = f === "" ? "" : feed.querySelectorAll("tr:not(.hidden)").length + " of " + feed.childElementCount + " events";
  }

  // ---- Search: a router, or the routers and networks that carry a prefix.
  function carriers(q) {
    const p = prefix4(q);
    if (!p) return null;
    const exact = q.includes("/");
    const found = new Map(); // prefix -> Set of keys
    const consider = (pfx, key) => {
      const x = prefix4(pfx);
      if (!x) return;
      if (exact ? x.addr === p.addr && x.bits === p.bits : contains(x, p.addr)) {
        (found.get(x.bits) || found.set(x.bits, { pfx, keys: new Set() }).get(x.bits)).keys.add(key);
      }
    };
    for (const [aid, a] of areas) {
      for (const [pfx] of a.networks) consider(pfx, netKey(pfx, aid));
      for (const [id, rr] of a.routers) {
        for (const l of (rr.core && rr.core.links) || []) if (l.kind === "stubnet") consider(l.id, id);
        for (const r of rr.routes.values()) {
          for (const l of r.summaries || []) if (l.kind === "xnetwork") consider(l.id, id);
          for (const x of (r.externals || []).concat(r.nssa || [])) consider(x.prefix, id);
        }
      }
    }
    if (found.size === 0) return { prefix: q, keys: [] };
    const best = found.get(Math.max(...found.keys())); // the longest match
    return { prefix: best.pfx, keys: Array.from(best.keys) };
  }
  // Search and queries mark the map each with classes of their own.
  function clearSearch() { if (cy) cy.elements().removeClass("hit nb dim"); }
  function clearMarks() { if (cy) cy.elements().removeClass("path lost changed failed"); }
  // idPrefix tells a beginning of a router ID ("10.69." or "10.6") from
  // an address: digits and dots, not a whole address.
  function idPrefix(q) { return /^\d{1,3}\.[\d.]*$/.test(q) && /^(\d{1,3}\.){0,3}\d{0,3}$/.test(q) && ip4(q) === null; }
  function routerNodes() { return cy.nodes().filter((n) => n.data("kind") === "router"); }
  function byAddress(a, b) { return (ip4(a) ?? 0) - (ip4(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0); }
  function listOf(keys, n) { return keys.slice(0, n).join(", ") + (keys.length > n ? ", \u2026" : ""); }
  function search(q) {
    clearSearch();
    const out = $("found");
    out.textContent = out.title = "";
    delete out.dataset.hits;
    q = q.trim();
    if (q === "" || !cy) return;
    let keys, what;
    if (cy.getElementById(q).nonempty()) {
      keys = [q];
      what = (q.includes("@") ? "network " : "router ") + q;
    } else if (idPrefix(q)) {
      keys = routerNodes().map((n) => n.id()).filter((id) => id.startsWith(q)).sort(byAddress);
      what = keys.length === 0 ? "no router ID begins " + q
        : keys.length === 1 ? "router " + keys[0] : keys.length + " routers whose ID begins " + q + ": " + listOf(keys, 8);
    } else {
      const c = carriers(q);
      if (!c) { out.textContent = /^\d{1,3}$/.test(q) ? "a router ID, a prefix or an address: keep typing" : "not a router ID, prefix or address"; return; }
      keys = c.keys.filter((k) => cy.getElementById(k).nonempty());
      what = c.prefix + ": " + (keys.length ? "carried by " + listOf(keys, 8) : "no router carries it");
      const p = q.includes("/") ? prefix4(q) : null;
      if (keys.length === 0 && p) { // a range: the routers whose IDs are in it
        keys = routerNodes().map((n) => n.id()).filter((id) => contains(p, ip4(id))).sort(byAddress);
        if (keys.length) what = "no router carries " + q + "; " + keys.length + " router IDs in it: " + listOf(keys, 8);
      }
    }
    if (keys.length === 0) { out.textContent = out.title = what; return; }
    const hits = cy.collection(keys.map((k) => cy.getElementById(k)));
    const nbh = hits.closedNeighborhood();
    cy.batch(() => {
      cy.elements().addClass("dim");
      nbh.removeClass("dim");
      nbh.nodes().not(hits).addClass("nb");
      nbh.edges().addClass("nb");
      hits.addClass("hit");
    });
    out.textContent = what + " \u2014 " + nbh.nodes().not(hits).length + " neighbours";
    out.title = out.textContent;
    out.dataset.hits = keys.join(" ");
    if (keys.length === 1) select(keys[0]);
    fitTo(nbh);
  }
  // The router IDs offered as the search field's suggestions (its
  // datalist), rebuilt when the field is used after the map changed.
  let idsDirty = true;
  function suggest() {
    if (!idsDirty || !cy) return;
    idsDirty = false;
    const list = $("router-ids"), frag = document.createDocumentFragment();
    for (const id of routerNodes().map((n) => n.id()).sort(byAddress)) {
      const o = document.createElement("option");
      o.value = id;
      frag.appendChild(o);
    }
    list.textContent = "";
    list.appendChild(frag);
  }
  let searchTimer = 0;
  filterInput.addEventListener("focus", suggest);
  filterInput.addEventListener("input", () => {
    suggest();
    for (const tr of feed.children) tr.classList.toggle("hidden", !matches(tr));
    updateShown();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(filterInput.value), 150);
  });
  filterInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); clearTimeout(searchTimer); search(filterInput.value); }
    if (e.key === "Escape" && filterInput.value !== "") {
      e.preventDefault();
      filterInput.value = "";
      filterInput.dispatchEvent(new Event("input"));
    }
  });
  // The keyboard: "/" goes to the search field; "[" and "]" step from
  // change to change in the past.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    if (e.key === "/") { e.preventDefault(); filterInput.focus(); filterInput.select(); }
    else if (e.key === "[" && past !== null) { e.preventDefault(); step(-1); }
    else if (e.key === "]" && past !== null) { e.preventDefault(); step(1); }
  });

  // fitTo shows the elements, zoomed in no further than nodes of about
  // 24 pixels.
  function fitTo(els) {
    cy.fit(els, 60);
    const most = 24 / unit;
    if (cy.zoom() > most) { cy.zoom(most); cy.center(els); }
  }

  // ---- Details of what was clicked.
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  // link is a button that looks like a link, so that the keyboard reaches it.
  function link(text, key) {
    const a = button(text, () => { const n = cy.getElementById(key); if (n.nonempty()) { cy.center(n); select(key); } });
    a.className = "link";
    return a;
  }
  function button(text, fn) { const b = el("button", text); b.type = "button"; b.addEventListener("click", fn); return b; }

  function select(key) {
    const n = cy.getElementById(key);
    if (n.empty()) return;
    cy.elements().unselect();
    n.select();
    if (n.isEdge()) showEdge(n); else if (key.includes("@")) showNetwork(key); else showRouter(key);
  }

  function recentOf(key, n) {
    const out = [];
    for (let i = events.length - 1; i >= 0 && out.length < n; i--) {
      if (describe(events[i].ev).keys.includes(key.split("@")[0])) out.push(events[i]);
    }
    return out;
  }
  function eventList(items) {
    if (items.length === 0) return el("p", past !== null ? "no archived event in the hour before" : "no recent event", "hint");
    const ul = el("ul", undefined, "mini");
    for (const it of items) {
      const d = describe(it.ev);
      ul.appendChild(el("li", new Date(it.ev.timestamp).toISOString().slice(11, 19) + " " + (it.ev.added ? "+ " : "\u2212 ") + d.what + " " + d.detail));
    }
    return ul;
  }

  function showRouter(id) {
    const box = $("details");
    box.textContent = "";
    box.dataset.router = id;
    const info = routerInfo(id);
    const h = el("h3", "router " + id);
    box.appendChild(h);
    const badges = el("div");
    if (info.flags & FLAG_B || info.areas.length > 1) badges.appendChild(el("span", "ABR", "badge abr"));
    if (isASBR(info)) badges.appendChild(el("span", "ASBR", "badge asbr"));
    if (info.flags & FLAG_V) badges.appendChild(el("span", "virtual link", "badge"));
    for (const a of info.areas) badges.appendChild(el("span", "area " + a, "badge"));
    box.appendChild(badges);
    const cost = el("p", "path cost from " + (pathFrom || self || "the agent's router") + ": \u2026", "kv");
    cost.id = "cost";
    box.appendChild(cost);
    const q = new URLSearchParams({ to: id });
    if (pathFrom) q.set("from", pathFrom);
    // In the past, on the network as it was then (the archive's state).
    if (past !== null) q.set("at", past);
    fetch(base + "/v1/path?" + q, { cache: "no-store" }).then(async (r) => {
      if (box.dataset.router !== id) return;
      if (!r.ok) {
        const why = (await r.text()).trim();
        cost.textContent = !pathFrom && r.status === 400 && why.startsWith("want ")
          ? "path cost: this server does not know its own router; pick a start with \u201cPath from here\u201d"
          : "path cost: " + why;
        return;
      }
      const a = await r.json();
      cost.textContent = "path cost from " + a.from + (q.has("at") ? " then" : "") + ": " + (a.reachable ? a.cost : "unreachable") +
        (a.reverse ? ", back: " + (a.reverse.reachable ? a.reverse.cost : "unreachable") : "");
      cost.dataset.cost = a.reachable ? a.cost : "";
    }).catch((e) => { cost.textContent = "path cost: " + e; });
    const acts = el("div", undefined, "actions");
    acts.appendChild(button("Path from here", () => { pathFrom = id; showRouter(id); }));
    acts.appendChild(button("Path to here", () => queryPath(pathFrom, id)));
    acts.appendChild(button("Fail this router", () => queryWhatIf(id)));
    if (pathFrom) acts.appendChild(button("Path from the agent's router", () => { pathFrom = ""; showRouter(id); }));
    box.appendChild(acts);
    // Links, per area.
    const t = el("table", undefined, "links");
    const hr = el("tr");
    ["to", "cost out", "in", "area"].forEach((c) => hr.appendChild(el("th", c)));
    t.appendChild(hr);
    let nlinks = 0;
    for (const aid of info.areas) {
      for (const e of linksAt(aid, id).values()) {
        const far = e.source === id ? e.target : e.source;
        const [out, back] = e.source === id ? [e.st, e.ts] : [e.ts, e.st];
        const tr = el("tr");
        const td = el("td");
        td.appendChild(link(far.replace("@" + aid, ""), far));
        tr.appendChild(td);
        tr.appendChild(el("td", String(out)));
        tr.appendChild(el("td", String(back)));
        tr.appendChild(el("td", aid));
        t.appendChild(tr);
        nlinks++;
      }
    }
    box.appendChild(el("p", nlinks + " links", "kv"));
    if (nlinks) box.appendChild(t);
    // Stub networks and externals.
    const stubs = [], exts = [];
    for (const aid of info.areas) {
      const rr = areas.get(aid).routers.get(id);
      for (const l of (rr.core && rr.core.links) || []) if (l.kind === "stubnet") stubs.push(l.id + " cost " + l.metric);
      for (const r of rr.routes.values()) {
        for (const x of (r.externals || []).concat(r.nssa || [])) {
          exts.push(x.prefix + " metric " + x.metric + (x.type2 ? " (type 2)" : " (type 1)") + (x.tag ? " tag " + x.tag : "") + (x.forward ? " via " + x.forward : ""));
        }
      }
    }
    const list = (title, items) => {
      const d = el("details");
      d.appendChild(el("summary", title + ": " + items.length));
      const ul = el("ul");
      items.sort().slice(0, 500).forEach((s) => ul.appendChild(el("li", s)));
      d.appendChild(ul);
      return d;
    };
    box.appendChild(list("stub networks", stubs));
    const ex = list("externals", exts);
    ex.id = "externals";
    box.appendChild(ex);
    box.appendChild(el("p", past !== null ? "events before " + iso(past) + " (archive)" : "recent events", "kv"));
    box.appendChild(eventList(recentOf(id, 20)));
  }

  function showNetwork(key) {
    const box = $("details");
    box.textContent = "";
    box.dataset.router = "";
    const [p, aid] = key.split("@");
    const n = (areas.get(aid) || { networks: new Map() }).networks.get(p) || {};
    box.appendChild(el("h3", "network " + p));
    box.appendChild(el("p", "area " + aid + (n.dr ? ", DR " + n.dr + (n.draddr ? " (" + n.draddr + ")" : "") : ""), "kv"));
    const ul = el("ul", undefined, "mini");
    for (const r of n.routers || []) { const li = el("li"); li.appendChild(link(r, r)); ul.appendChild(li); }
    box.appendChild(el("p", (n.routers || []).length + " routers attached", "kv"));
    box.appendChild(ul);
    box.appendChild(el("p", past !== null ? "events before " + iso(past) + " (archive)" : "recent events", "kv"));
    box.appendChild(eventList(recentOf(key, 20)));
  }

  function showEdge(e) {
    const box = $("details");
    box.textContent = "";
    box.dataset.router = "";
    const d = e.data();
    box.appendChild(el("h3", "link " + d.source + " \u2013 " + d.target.split("@")[0]));
    box.appendChild(el("p", d.source + " \u2192 " + d.target.split("@")[0] + ": cost " + d.st, "kv"));
    if (!d.target.includes("@")) box.appendChild(el("p", d.target + " \u2192 " + d.source + ": cost " + d.ts, "kv"));
    box.appendChild(el("p", "area " + d.area, "kv"));
    const acts = el("div", undefined, "actions");
    acts.appendChild(button("Fail this link", () => queryWhatIf(d.source + "-" + d.target.split("@")[0])));
    box.appendChild(acts);
  }

  // ---- Paths and what-ifs, drawn on the map.
  function edgeBetween(u, v) {
    const es = cy.getElementById(u).edgesWith(cy.getElementById(v)).filter((e) => !e.hasClass("removed"));
    return es.length ? es[0] : null;
  }
  function hopKey(h) {
    if (h.type !== "network") return h.id;
    if (h.id.includes("@")) return h.id;
    for (const [aid, a] of areas) if (a.networks.has(h.id)) return netKey(h.id, aid);
    return h.id;
  }
  async function queryPath(from, to) {
    const q = new URLSearchParams({ to });
    if (from) q.set("from", from);
    if (past !== null) q.set("at", past);
    const box = $("query");
    box.hidden = false;
    box.textContent = "path \u2026";
    const r = await fetch(base + "/v1/path?" + q, { cache: "no-store" });
    if (!r.ok) { box.textContent = "path: " + (await r.text()).trim(); return; }
    const a = await r.json();
    clearMarks();
    let marked = cy.collection();
    for (const p of a.paths) {
      const ks = p.filter((h) => h.type !== "prefix").map(hopKey);
      ks.forEach((k) => { marked = marked.union(cy.getElementById(k)); });
      for (let i = 1; i < ks.length; i++) { const e = edgeBetween(ks[i - 1], ks[i]); if (e) marked = marked.union(e); }
    }
    marked.addClass("path");
    box.textContent = "";
    box.appendChild(el("h3", "path " + a.from + " \u2192 " + a.to + (q.has("at") ? " as at " + iso(Number(q.get("at"))) : "")));
    box.appendChild(el("p", a.reachable ? "cost " + a.cost + ", " + a.paths.length + " equal-cost path" + (a.paths.length > 1 ? "s" : "") : "unreachable", "kv"));
    if (a.reverse) box.appendChild(el("p", "back: " + (a.reverse.reachable ? "cost " + a.reverse.cost + ", " + a.reverse.paths.length + " path(s)" : "unreachable"), "kv"));
    const ul = el("ul", undefined, "mini");
    for (const p of a.paths) ul.appendChild(el("li", p.map((h) => h.id + (h.cost ? "(" + h.cost + ")" : "")).join(" \u2192 ")));
    box.appendChild(ul);
    box.appendChild(button("Clear", () => { clearMarks(); box.hidden = true; }));
    box.dataset.kind = "path";
    if (marked.nonempty()) fitTo(marked);
  }
  async function queryWhatIf(fail) {
    const q = new URLSearchParams({ fail });
    if (pathFrom) q.set("from", pathFrom);
    if (past !== null) q.set("at", past);
    const box = $("query");
    box.hidden = false;
    box.textContent = "what-if \u2026";
    const r = await fetch(base + "/v1/whatif?" + q, { cache: "no-store" });
    if (!r.ok) { box.textContent = "what-if: " + (await r.text()).trim(); return; }
    const a = await r.json();
    clearMarks();
    cy.batch(() => {
      const [u, v] = fail.split("-");
      if (v === undefined) cy.getElementById(u).addClass("failed");
      else { const e = edgeBetween(u, v.includes("/") ? hopKey({ type: "network", id: v }) : v); if (e) e.addClass("failed"); }
      for (const c of a.unreachable) cy.getElementById(c.router).addClass("lost");
      for (const c of a.changed) cy.getElementById(c.router).addClass("changed");
    });
    box.textContent = "";
    box.appendChild(el("h3", "if " + a.fail + " fails" + (q.has("at") ? " (as at " + iso(Number(q.get("at"))) + ")" : "")));
    box.appendChild(el("p", "from " + a.root + ": " + a.unreachable.length + " unreachable (red), " + a.changed.length + " change cost (orange)", "kv"));
    const ul = el("ul", undefined, "mini");
    for (const c of a.unreachable.slice(0, 50)) ul.appendChild(el("li", c.router + " unreachable (was " + c.before + ")"));
    for (const c of a.changed.slice(0, 50)) ul.appendChild(el("li", c.router + " " + c.before + " \u2192 " + c.after));
    box.appendChild(ul);
    box.appendChild(button("Clear", () => { clearMarks(); box.hidden = true; }));
    box.dataset.kind = "whatif";
  }

  // ---- Map events: clicks and the tooltip.
  function bindMap() {
    cy.on("tap", "node", (e) => select(e.target.id()));
    cy.on("tap", "edge", (e) => { if (!e.target.hasClass("ghost")) select(e.target.id()); });
    const tip = $("tip");
    cy.on("mouseover", "node, edge", (e) => {
      const d = e.target.data();
      tip.textContent = e.target.hasClass("ghost") ? "link " + d.source + " \u2013 " + d.target.split("@")[0] + ": removed at this time"
        : e.target.isEdge()
        ? d.source + " \u2192 " + d.target.split("@")[0] + ": " + d.st + (d.target.includes("@") ? "" : "\n" + d.target + " \u2192 " + d.source + ": " + d.ts) + "\narea " + d.area
        : (d.kind === "router" ? "router " + d.id + (d.ext ? "\n" + d.ext + " externals" : "") : "network " + d.label);
      tip.hidden = false;
    });
    cy.on("mousemove", (e) => { tip.style.left = e.renderedPosition.x + 12 + "px"; tip.style.top = e.renderedPosition.y + 12 + "px"; });
    cy.on("mouseout", "node, edge", () => { tip.hidden = true; });
  }

  // ---- Loading and following.
  // httpError is a failed request: its status, and the server's message.
  async function httpError(path, r) {
    const text = (await r.text()).trim();
    const e = new Error(path + ": HTTP " + r.status + " " + text);
    e.status = r.status;
    e.text = text;
    return e;
  }
  async function getJSON(path) {
    const r = await fetch(base + path, { cache: "no-store" });
    if (!r.ok) throw await httpError(path, r);
    return r.json();
  }
  // getLines returns the objects of an NDJSON answer.
  async function getLines(path) {
    const r = await fetch(base + path, { cache: "no-store" });
    if (!r.ok) throw await httpError(path, r);
    const out = [];
    for (const line of (await r.text()).split("\n")) if (line !== "") out.push(JSON.parse(line));
    return out;
  }

  // snapshot loads the current view and draws it; false when the page
  // went to the past meanwhile (it then draws nothing).
  async function snapshot() {
    const token = pastToken;
    if (!stats.firstDraw) stats.script = performance.now();
    const [doc, lay] = await Promise.all([getJSON("/v1/view"), getJSON("/v1/layout")]);
    if (past !== null || token !== pastToken) return false;
    if (!stats.firstDraw) stats.fetched = performance.now();
    layout = new Map(Object.entries(lay.nodes || {}));
    self = doc.self || "";
    loadView(doc.view);
    epoch = doc.epoch;
    seq = doc.seq;
    draw();
    if (!stats.firstDraw) {
      stats.loaded = performance.now();
      // Drawn: the frame after the renderer's first pass over the elements.
      const drawn = () => { if (!stats.firstDraw) stats.firstDraw = performance.now(); };
      cy.one("render", () => requestAnimationFrame(drawn));
      requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(drawn)));
    }
    // What happened before: the window's recent events up to the view.
    try {
      const rec = await getJSON("/v1/recent?until=" + seq + "&n=" + MAX_ROWS);
      if (rec.epoch === epoch && past === null && token === pastToken) {
        events = [];
        showRecent(rec.events.filter((e) => e.event).map((e) => ({ seq: e.seq, area: e.area || "0.0.0.0", ev: e.event, before: true })));
      }
    } catch (e) { /* an older server: no recent events */ }
    return true;
  }

  function onMessage(m) {
    const t0 = performance.now();
    const env = JSON.parse(m.data);
    seq = env.seq;
    if (env.event) {
      show({ seq: env.seq, area: env.area || "0.0.0.0", ev: env.event });
    } else {
      update(applyRecord(env));
    }
    const t1 = performance.now();
    stats.apply.push(t1 - t0);
    if (stats.apply.length > 1000) stats.apply.shift();
    requestAnimationFrame(() => { stats.frame.push(performance.now() - t0); if (stats.frame.length > 1000) stats.frame.shift(); });
  }

  function stopFollowing(why) {
    if (ws) { const s = ws; ws = null; s.close(1000, why); }
  }

  function follow() {
    stopFollowing("replaced");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const sock = new WebSocket(proto + "//" + location.host + base + "/v1/stream?since=" + seq + "&epoch=" + encodeURIComponent(epoch));
    ws = sock;
    sock.onopen = () => { if (ws === sock) { setStatus("live (epoch " + epoch + ")", true); retry = 500; } };
    sock.onmessage = (m) => { if (ws === sock) onMessage(m); };
    sock.onclose = (e) => {
      if (ws !== sock) return; // closed on purpose: a view of the past, or a newer connection
      ws = null;
      const resnap = e.code === 4001;
      if (resnap) stats.resnapshots++;
      setStatus((resnap ? "resnapshotting" : "reconnecting") + (e.reason ? ": " + e.reason : ""), false);
      setTimeout(() => start(resnap), retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  async function start(resnap) {
    if (past !== null) return;
    try {
      if ((resnap || epoch === "") && !(await snapshot())) return;
      if (past !== null) return;
      follow();
    } catch (err) {
      if (past !== null) return;
      setStatus(String(err.message || err), false);
      setTimeout(() => start(true), retry);
      retry = Math.min(retry * 2, 30000);
    }
  }

  // ---- Back in time: the map of /v1/view?at=T, the archive's events in
  // the hour before T (/v1/events), change by change, and back to live.
  const HOUR = 3600e3, DAY = 24 * HOUR, BEFORE = HOUR;
  let pastToken = 0; // counts the steps and returns: an answer to an older one is dropped
  let pastEvents = []; // the archive's events listed, oldest first
  function iso(ms) { return new Date(ms).toISOString(); }
  function clock(ms) { return iso(ms).slice(11, 23); }
  // localInput is the datetime-local value of ms, in the browser's time zone.
  function localInput(ms) {
    const d = new Date(ms), p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function setMode(text, cls) {
    const m = $("mode");
    m.textContent = text;
    m.className = cls || "";
  }
  function asAt(ms, doc) {
    let s = "as at " + iso(ms);
    if (doc && doc.base !== undefined) s += " (the minute snapshot of " + clock(doc.base).slice(0, 8) + " UTC and " + doc.events + " event" + (doc.events === 1 ? "" : "s") + " after it)";
    return s;
  }
  function historyProblem(e, ms) {
    if (e.status === 404) return "no history at " + iso(ms) + (e.text ? ": " + e.text : "");
    if (e.status === 501) return "this server keeps no archive";
    return "history: " + (e.message || e);
  }

  async function showPast(at) {
    const ms = typeof at === "number" ? at : Date.parse(at);
    if (!Number.isFinite(ms)) { setMode("not a time: " + at, "warn"); return; }
    const token = ++pastToken;
    const wasPast = past, t0 = performance.now();
    setMode("fetching " + iso(ms) + " \u2026", "past");
    const [v, e] = await Promise.allSettled([
      getJSON("/v1/view?at=" + ms),
      getLines("/v1/events?from=" + (ms - BEFORE) + "&to=" + ms),
    ]);
    if (token !== pastToken) return; // another step, or Live, came since
    if (v.status === "rejected") {
      // The map stays as it was, live or past.
      setMode(historyProblem(v.reason, ms) + (wasPast !== null ? "; still showing " + iso(wasPast) : ""), "warn");
      return;
    }
    const doc = v.value;
    past = ms;
    stopFollowing("a view of the past");
    setStatus("history: not following", false);
    loadView(doc.view);
    draw();
    $("at").value = localInput(ms);
    setMode(asAt(ms, doc), "past");
    $("live").disabled = false;
    $("prev-change").disabled = false;
    $("next-change").disabled = false;
    showHistory(ms, e.status === "fulfilled" ? e.value : null, e.reason);
    const sel = cy.$(":selected");
    if (sel.nonempty()) select(sel.id()); // its details, as they were
    const marked = markChange(ms);
    if (marked.nonempty() && !inView(marked)) cy.center(marked);
    stats.steps.push(performance.now() - t0); // asked, fetched, drawn and listed
    if (stats.steps.length > 1000) stats.steps.shift();
  }

  // showHistory lists the archive's events before at, newest first, those
  // stamped exactly at (the change the map shows last) highlighted.
  function showHistory(at, lines, err) {
    pastEvents = lines || [];
    events = pastEvents.map((ev) => ({ ev, past: true, at: ev.timestamp === at }));
    $("side").classList.add("history");
    $("events-title").textContent = "History: events before " + clock(at) + " UTC";
    const note = $("events-note");
    note.hidden = false;
    const changes = new Set(pastEvents.map((ev) => ev.timestamp)).size;
    note.textContent = lines
      ? "From the archive, not live: " + pastEvents.length + " events (" + changes + " changes) stamped from " + iso(at - BEFORE) + " to " + iso(at) + "; bold, the change at that time. Live returns to the present."
      : "From the archive: " + (err && err.status === 404 ? "no events archived before " + iso(at) : err && err.status === 501 ? "this server keeps no event archive" : "events: " + (err && err.message || err));
    const frag = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0 && frag.childNodes.length < MAX_ROWS; i--) frag.appendChild(row(events[i]));
    feed.textContent = "";
    feed.appendChild(frag);
    $("empty").style.display = "none";
    updateShown();
  }

  // markChange marks on the map what the events stamped exactly at
  // touched: their routers and networks, a link they added (green) and one
  // they removed (dashed red, drawn for the moment).
  function markChange(at) {
    let marked = cy.collection();
    const netNode = (p) => {
      for (const aid of areas.keys()) { const n = cy.getElementById(netKey(p, aid)); if (n.nonempty()) return n; }
      return cy.collection();
    };
    cy.batch(() => {
      for (const ev of pastEvents) {
        if (ev.timestamp !== at) continue;
        const change = ev.added || ev.removed;
        let ent, far = cy.collection(), farID = "";
        if (ev.entity.type === "network") {
          ent = netNode(ev.entity.id);
          farID = change.router;
          far = cy.getElementById(farID);
        } else {
          ent = cy.getElementById(ev.entity.id);
          const kind = Object.keys(change.link)[0], l = change.link[kind];
          if (kind === "router") { farID = l.id; far = cy.getElementById(l.id); }
          if (kind === "network") far = netNode(l.id);
        }
        marked = marked.union(ent).union(far);
        if (ent.empty() || far.empty()) continue;
        const es = ent.edgesWith(far).filter((x) => !x.hasClass("ghost"));
        if (ev.added) es.addClass("at-added");
        else if (es.empty()) {
          const [u, w] = ent.id() < far.id() ? [ent.id(), far.id()] : [far.id(), ent.id()];
          if (cy.getElementById("ghost|" + u + "|" + w).empty()) {
            cy.add({ group: "edges", data: { id: "ghost|" + u + "|" + w, source: u, target: w, label: "", colour: "#c62828" }, classes: "ghost", selectable: false });
          }
        }
      }
      marked.nodes().addClass("at");
    });
    return marked;
  }
  function inView(els) {
    const ex = cy.extent();
    return els.nodes().some((n) => { const p = n.position(); return p.x >= ex.x1 && p.x <= ex.x2 && p.y >= ex.y1 && p.y <= ex.y2; });
  }

  // changeTimes are the times of the archived events from..to (after
  // from, up to to), or [] when the archive has none there.
  async function changeTimes(from, to) {
    try {
      return (await getLines("/v1/events?from=" + from + "&to=" + to)).map((ev) => ev.timestamp);
    } catch (e) {
      if (e.status === 404) return [];
      throw e;
    }
  }
  // step shows the state after the change before (dir < 0) or after the
  // time shown: the archive's events stamped at one time are one change.
  async function step(dir) {
    if (past === null) return;
    const at = past, token = pastToken;
    let t = null;
    try {
      if (dir < 0) {
        for (const ev of pastEvents) if (ev.timestamp < at && (t === null || ev.timestamp > t)) t = ev.timestamp;
        if (t === null) for (const x of await changeTimes(at - DAY, at - BEFORE)) if (x < at && (t === null || x > t)) t = x;
      } else {
        for (const [from, to] of [[at, at + HOUR], [at + HOUR, at + DAY]]) {
          for (const x of await changeTimes(from, to)) if (x > at && (t === null || x < t)) t = x;
          if (t !== null) break;
        }
      }
    } catch (e) {
      if (token === pastToken) setMode(historyProblem(e, at) + "; still showing " + iso(at), "warn");
      return;
    }
    if (token !== pastToken) return;
    if (t === null) {
      setMode(asAt(at) + ": no " + (dir < 0 ? "earlier change in the day before" : "later change in the day after"), "past");
      return;
    }
    await showPast(t);
  }

  function toLive() {
    pastToken++;
    past = null;
    pastEvents = [];
    events = [];
    feed.textContent = "";
    $("side").classList.remove("history");
    $("events-title").textContent = "Recent events";
    $("events-note").hidden = true;
    setMode("live", "");
    $("live").disabled = true;
    $("prev-change").disabled = true;
    $("next-change").disabled = true;
    start(true);
  }
  $("at-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("at").value;
    if (!v) { setMode("pick a time", "warn"); return; }
    showPast(new Date(v).getTime());
  });
  $("prev-change").addEventListener("click", () => step(-1));
  $("next-change").addEventListener("click", () => step(1));
  $("live").addEventListener("click", toLive);

  window.ospfMap = {
    get cy() { return cy; }, stats, search, select, queryPath, queryWhatIf, showPast, step, toLive,
    get seq() { return seq; }, get past() { return past; }, get self() { return self; },
  };
  start(true);
})();
