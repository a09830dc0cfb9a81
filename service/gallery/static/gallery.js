// The gallery: pick a model and a layer, page through its filters; each page is one visualisation
// whose images fill in live from its event stream. A second model (or a second upload of one)
// can be shown beside it for the same layer and filters. Plain browser JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const ENDINGS = ["finished", "failed", "cancelled", "expired"];
const state = { models: [], page: 0, streams: [] };

function show(message, info = false) {
  $("message").textContent = message;
  $("message").className = info ? "info" : "";
}

function headers(json) {
  const sent = {};
  if ($("key").value) sent["X-API-Key"] = $("key").value;
  if (json) sent["Content-Type"] = "application/json";
  return sent;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const body = isJson ? await response.json() : null;
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `${response.status} ${response.statusText}`);
  return body;
}

function option(value, text, disabled = false) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  element.disabled = disabled;
  return element;
}

function modelById(id) {
  return state.models.find((model) => model.id === id);
}

async function loadModels(wanted) {
  state.models = await api("/v1/models");
  for (const select of [$("model"), $("compare")]) {
    for (const model of state.models) {
      const note = model.available ? "" : ` (${model.status})`;
      select.append(option(model.id, `${model.id}${note}`, !model.available));
    }
  }
  const first = state.models.find((model) => model.available);
  $("model").value = modelById(wanted.model) ? wanted.model : (first ? first.id : "");
  $("compare").value = modelById(wanted.compare) ? wanted.compare : "";
  fillLayers(wanted.layer);
}

function fillLayers(wanted) {
  const model = modelById($("model").value);
  $("layer").replaceChildren(...(model ? model.layers : []).map((layer) => option(layer.name, `${layer.name} (${layer.filters})`)));
  if (model && model.layers.some((layer) => layer.name === wanted)) $("layer").value = wanted;
}

function settingsFromUrl() {
  const query = new URLSearchParams(location.search);
  for (const name of ["method", "size", "steps", "per_page"]) {
    if (query.has(name)) $(name).value = query.get(name);
  }
  state.page = Math.max(0, parseInt(query.get("page") || "0", 10) || 0);
  return { model: query.get("model"), layer: query.get("layer"), compare: query.get("compare") };
}

function keepInUrl() {
  const query = new URLSearchParams();
  for (const name of ["model", "layer", "compare", "method", "size", "steps", "per_page"]) {
    if ($(name).value) query.set(name, $(name).value);
  }
  query.set("page", state.page);
  history.replaceState(null, "", `?${query}`);
}

function closeStreams() {
  state.streams.forEach((stream) => stream.close());
  state.streams = [];
}

function pageFilters(layer) {
  const perPage = Math.max(1, parseInt($("per_page").value, 10) || 12);
  const pages = Math.max(1, Math.ceil(layer.filters / perPage));
  state.page = Math.min(state.page, pages - 1);
  const first = state.page * perPage;
  const filters = [];
  for (let index = first; index < Math.min(first + perPage, layer.filters); index++) filters.push(index);
  $("page-label").textContent = `filters ${first}-${filters[filters.length - 1]} of ${layer.filters} (page ${state.page + 1}/${pages})`;
  $("previous").disabled = state.page === 0;
  $("next").disabled = state.page >= pages - 1;
  return filters;
}

function showPage() {
  closeStreams();
  $("grids").replaceChildren();
  show("");
  const model = modelById($("model").value);
  const layerName = $("layer").value;
  const layer = model && model.layers.find((known) => known.name === layerName);
  if (!layer) {
    show("Pick a model and a layer.", true);
    return;
  }
  keepInUrl();
  const filters = pageFilters(layer);
  const shown = [model];
  const other = modelById($("compare").value);
  if (other && other.id !== model.id) shown.push(other);
  for (const each of shown) {
    const grid = newGrid(each, layerName, filters);
    if (each.layers.some((known) => known.name === layerName)) {
      renderGrid(grid).catch((error) => show(`${each.id}: ${error.message}`));
    } else {
      grid.heading.textContent += ` has no layer ${layerName}`;
    }
  }
}

function newGrid(model, layer, filters) {
  const section = document.createElement("section");
  section.className = "grid";
  const heading = document.createElement("h2");
  heading.textContent = `${model.id} · ${layer}`;
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.append(document.createElement("div"));
  const tiles = document.createElement("div");
  tiles.className = "tiles";
  section.append(heading, bar, tiles);
  $("grids").append(section);
  const grid = { model, layer, filters, heading, bar: bar.firstChild, tiles: new Map(), visualization: null };
  for (const filter of filters) {
    const figure = document.createElement("figure");
    const image = document.createElement("img");
    image.alt = `${model.id} ${layer} filter ${filter}`;
    const caption = document.createElement("figcaption");
    caption.innerHTML = `<span>#${filter}</span><span class="activation">…</span>`;
    figure.append(image, caption);
    figure.addEventListener("click", () => showDetails(grid, filter));
    tiles.append(figure);
    grid.tiles.set(filter, { figure, image, caption, entry: null });
  }
  return grid;
}

async function renderGrid(grid) {
  const params = { method: $("method").value, image_size: parseInt($("size").value, 10),
                   steps: parseInt($("steps").value, 10) };
  const body = JSON.stringify({ model: grid.model.id, layer: grid.layer, filters: grid.filters, params });
  const visualization = await api("/v1/visualizations", { method: "POST", headers: headers(true), body });
  applyVisualization(grid, visualization);
  if (!ENDINGS.includes(visualization.status)) follow(grid, visualization.id);
}

function applyVisualization(grid, visualization) {
  grid.visualization = visualization;
  visualization.images.forEach((entry) => applyImage(grid, entry));
  const { step, steps } = visualization.progress;
  grid.bar.style.width = `${visualization.status === "finished" ? 100 : (100 * step) / Math.max(1, steps)}%`;
  if (visualization.status !== "finished" && ENDINGS.includes(visualization.status)) {
    show(`${grid.model.id}: ${visualization.status}${visualization.error ? ": " + visualization.error.detail : ""}`);
  }
}

function applyImage(grid, entry) {
  const tile = grid.tiles.get(entry.filter);
  if (!tile || entry.index !== 0) return;
  tile.entry = entry;
  tile.image.src = entry.url;
  tile.caption.querySelector(".activation").textContent = entry.alive === false ? "dead" : entry.activation.toFixed(1);
  tile.figure.classList.toggle("dead", entry.alive === false);
}

function follow(grid, id) {
  const stream = new EventSource(`/v1/visualizations/${id}/events`);
  state.streams.push(stream);
  stream.addEventListener("progress", (event) => {
    const { step, steps } = JSON.parse(event.data);
    grid.bar.style.width = `${(100 * step) / Math.max(1, steps)}%`;
  });
  stream.addEventListener("image", (event) => applyImage(grid, JSON.parse(event.data)));
  for (const ending of ENDINGS) {
    stream.addEventListener(ending, (event) => {
      stream.close();
      applyVisualization(grid, JSON.parse(event.data));
    });
  }
}

function curvePoints(curve) {
  if (!curve.length) return "";
  const low = Math.min(...curve);
  const high = Math.max(...curve);
  const span = high - low || 1;
  return curve.map((value, index) => `${(300 * index) / Math.max(1, curve.length - 1)},${115 - (110 * (value - low)) / span}`).join(" ");
}

function showDetails(grid, filter) {
  const tile = grid.tiles.get(filter);
  if (!tile.entry) return;
  const entry = tile.entry;
  $("details-title").textContent = `${grid.model.id} · ${grid.layer} · filter ${filter}`;
  $("details-image").src = entry.url;
  const progressUrl = grid.visualization && grid.visualization.progress_url;
  $("details-progress").hidden = !progressUrl;
  if (progressUrl) $("details-progress").src = progressUrl;
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", curvePoints(entry.curve));
  $("details-curve").replaceChildren(line);
  const quality = entry.quality || {};
  const numbers = [["activation", entry.activation.toFixed(2)], ["alive", String(entry.alive)],
                   ["robust activation", quality.robust_activation], ["high-frequency share", quality.high_frequency_share],
                   ["clipped share", quality.clipped_share], ["image", entry.url]];
  $("details-numbers").replaceChildren(...numbers.flatMap(([name, value]) => {
    const term = document.createElement("dt");
    term.textContent = name;
    const description = document.createElement("dd");
    description.textContent = value === undefined ? "-" : value;
    return [term, description];
  }));
  $("details-params").textContent = JSON.stringify(grid.visualization ? grid.visualization.params : {}, null, 2);
  $("details").hidden = false;
}

function start() {
  const wanted = settingsFromUrl();
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    showPage();
  });
  $("model").addEventListener("change", () => fillLayers($("layer").value));
  $("previous").addEventListener("click", () => { state.page -= 1; showPage(); });
  $("next").addEventListener("click", () => { state.page += 1; showPage(); });
  $("close").addEventListener("click", () => { $("details").hidden = true; });
  loadModels(wanted).then(showPage).catch((error) => show(`Models could not be listed: ${error.message}`));
}

start();
