// The service designer (templates/designer/designer.html): keeps the design in the page, draws a
// typed form per function from its type's property definitions (the palette the page carries),
// posts the design to /ui/designer/check as it changes (debounced) to show the NSD and the
// loader's problems, and to /ui/designer/publish. Every control is a native button, input or
// select, so the page works with the keyboard alone.
"use strict";
(function () {
  const DEBOUNCE_MS = 400;
  let state, palette, natives, packages;
  let checkTimer = null;
  let checkSeq = 0;

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // ---- values: a field's text <-> the JSON value the descriptor gets ----
  function numberOr(text) {
    const trimmed = text.trim();
    return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
  }

  function parse(spec, text) {
    if (spec.widget === "boolean") return text === "" ? undefined : text === "true";
    if (spec.widget === "enum") {
      if (text === "") return undefined;
      const found = spec.choices.find((c) => String(c) === text);
      return found === undefined ? text : found;
    }
    if (typeof text !== "string" || text.trim() === "") return undefined;
    if (spec.widget === "integer" || spec.widget === "number") return numberOr(text);
    if (spec.widget === "range") {
      const parts = text.split("-").map((p) => p.trim());
      return parts.length === 2 && parts.every((p) => p !== "") ? parts.map(numberOr) : text.trim();
    }
    if (spec.widget === "list") {
      const items = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
      return ["integer", "float"].includes(spec.entry) ? items.map(numberOr) : items;
    }
    if (spec.widget === "map") {
      const out = {};
      for (const line of text.split("\n")) {
        const at = line.indexOf("=");
        if (line.trim() === "") continue;
        if (at < 1) return text; // not KEY=VALUE: the loader says what is wrong
        out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return out;
    }
    return text.trim();
  }

  function show(spec, value) {
    if (value === undefined || value === null) return "";
    if (spec.widget === "range" && Array.isArray(value)) return value.join("-");
    if (spec.widget === "list" && Array.isArray(value)) return value.join(", ");
    if (spec.widget === "map" && typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${k}=${v}`).join("\n");
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function hint(spec) {
    const bits = [];
    if (spec.required) bits.push("required");
    if (spec.default !== null && spec.default !== undefined && spec.widget !== "enum") bits.push(`default ${show(spec, spec.default)}`);
    if (spec.min !== null && spec.max !== null) bits.push(`${spec.min}–${spec.max}`);
    else if (spec.min !== null) bits.push(`at least ${spec.min}`);
    else if (spec.max !== null) bits.push(`at most ${spec.max}`);
    const how = { range: "low-high", list: "comma-separated", map: "one KEY=VALUE a line",
                  scalar: spec.type.endsWith("bitrate") ? "e.g. 10 Mbps" : "e.g. 64 KB" }[spec.widget];
    if (how) bits.push(how);
    return bits.join("; ");
  }

  // ---- one typed field ----
  function field(spec, id, path, value, onValue) {
    let input;
    if (spec.widget === "enum" || spec.widget === "boolean") {
      const choices = spec.widget === "boolean" ? [true, false] : spec.choices;
      const blank = spec.default !== null && spec.default !== undefined
        ? `(default: ${spec.default})` : "(not set)";
      input = el("select", { id }, el("option", { value: "", text: blank }),
        ...choices.map((c) => el("option", { value: String(c), text: String(c) })));
      input.value = show(spec, value);
      input.addEventListener("change", () => onValue(parse(spec, input.value)));
    } else if (spec.widget === "map") {
      input = el("textarea", { id, rows: 3, maxlength: 4000 });
      input.value = show(spec, value);
      input.addEventListener("input", () => onValue(parse(spec, input.value)));
    } else {
      const numeric = spec.widget === "integer" || spec.widget === "number";
      input = el("input", {
        id, type: numeric ? "number" : "text", inputmode: numeric ? "decimal" : null,
        step: spec.widget === "integer" ? 1 : numeric ? "any" : null,
        min: numeric ? spec.min : null, max: numeric ? spec.max : null, maxlength: numeric ? null : 1000,
        autocomplete: "off", "aria-required": spec.required ? "true" : null,
      });
      input.value = show(spec, value);
      input.addEventListener("input", () => onValue(parse(spec, input.value)));
    }
    input.dataset.field = path;
    const note = hint(spec);
    return el("div", { class: "stack field" },
      el("label", { for: id }, spec.key.replaceAll("_", " "), note ? el("span", { class: "hint", text: ` (${note})` }) : null),
      input);
  }

  function setProp(target, key, value) {
    if (value === undefined) delete target[key]; else target[key] = value;
  }

  // ---- a list of records (firewall rules, port forwards, routes, classes) ----
  function records(spec, fn, index) {
    const list = Array.isArray(fn.properties[spec.key]) ? fn.properties[spec.key] : [];
    const label = spec.key.replaceAll("_", " ");
    const one = label.endsWith("s") ? label.slice(0, -1) : label;
    const box = el("fieldset", { class: "records" }, el("legend", { text: `${label} (${list.length})` }));
    list.forEach((entry, j) => {
      const base = `functions[${index}].properties.${spec.key}[${j}]`;
      const row = el("div", { class: "record", "data-field": base });
      row.append(el("p", { class: "record-title", text: `${one} ${j + 1}` }));
      const grid = el("div", { class: "designer-grid" });
      for (const sub of spec.fields) {
        grid.append(field(sub, `f-${index}-${spec.key}-${j}-${sub.key}`, `${base}.${sub.key}`,
          entry[sub.key], (v) => { setProp(entry, sub.key, v); changed(); }));
      }
      row.append(grid);
      const name = `${one} ${j + 1} of ${fn.name}`;
      row.append(el("div", { class: "row" },
        el("button", { type: "button", class: "secondary", "aria-label": `Move ${name} up`, disabled: j === 0,
          onclick: () => { swap(list, j, j - 1); restructure(`[aria-label="Move ${one} ${j} of ${fn.name} up"]`); } }, "Move up"),
        el("button", { type: "button", class: "secondary", "aria-label": `Move ${name} down`, disabled: j === list.length - 1,
          onclick: () => { swap(list, j, j + 1); restructure(`[aria-label="Move ${one} ${j + 2} of ${fn.name} down"]`); } }, "Move down"),
        el("button", { type: "button", class: "secondary", "aria-label": `Remove ${name}`,
          onclick: () => { list.splice(j, 1); if (!list.length) delete fn.properties[spec.key]; restructure(); } }, "Remove")));
      box.append(row);
    });
    box.append(el("button", { type: "button", class: "secondary", "aria-label": `Add a ${one} to ${fn.name}`,
      onclick: () => {
        const fresh = {};
        for (const sub of spec.fields) if (sub.required && sub.default !== null) fresh[sub.key] = sub.default;
        fn.properties[spec.key] = [...list, fresh];
        restructure(`#f-${index}-${spec.key}-${list.length}-${spec.fields[0].key}`);
      } }, `Add a ${one}`));
    return box;
  }

  function swap(list, a, b) {
    if (b >= 0 && b < list.length) [list[a], list[b]] = [list[b], list[a]];
  }

  // ---- the chain ----
  function choiceOf(fn) {
    if (fn.source === "native") return natives.find((n) => n.type === fn.type);
    return packages.find((p) => p.vnfd_id === fn.type);
  }

  function functionItem(fn, index) {
    const choice = choiceOf(fn);
    const kind = fn.source === "native"
      ? `${choice ? choice.label : fn.type} (native)`
      : `VNF package ${fn.type}` + (choice ? ` — ${choice.product_name} ${choice.software_version}` : "");
    const item = el("li", { class: "card function", "data-field": `functions[${index}]` });
    item.append(el("h3", { text: `${index + 1}. ${fn.name}` }), el("p", { class: "muted", text: kind }));
    const head = el("div", { class: "designer-grid" });
    const nameInput = el("input", { id: `f-${index}-name`, maxlength: 64, autocomplete: "off", value: fn.name });
    nameInput.dataset.field = `functions[${index}].name`;
    nameInput.addEventListener("change", () => { fn.name = nameInput.value.trim(); restructure(`#f-${index}-name`); });
    head.append(el("div", { class: "stack field" }, el("label", { for: nameInput.id, text: "Node name" }), nameInput));
    if (fn.source === "package" && choice) {
      const flavour = el("select", { id: `f-${index}-flavour` },
        ...choice.flavours.map(([id, text]) => el("option", { value: id, text: `${id} — ${text}` })));
      flavour.value = fn.flavourId;
      flavour.dataset.field = `functions[${index}].flavour_id`;
      flavour.addEventListener("change", () => { fn.flavourId = flavour.value; changed(); });
      head.append(el("div", { class: "stack field" }, el("label", { for: flavour.id, text: "Flavour" }), flavour));
    }
    item.append(head);
    if (fn.source === "native" && choice) {
      const props = el("fieldset", { class: "properties" }, el("legend", { text: `Properties of ${fn.name}` }));
      const plain = el("div", { class: "designer-grid" });
      for (const spec of choice.fields) {
        if (spec.widget === "records") continue;
        plain.append(field(spec, `f-${index}-${spec.key}`, `functions[${index}].properties.${spec.key}`,
          fn.properties[spec.key], (v) => { setProp(fn.properties, spec.key, v); changed(); }));
      }
      if (plain.childElementCount) props.append(plain);
      for (const spec of choice.fields) if (spec.widget === "records") props.append(records(spec, fn, index));
      item.append(props);
    } else if (fn.source === "package") {
      item.append(el("p", { class: "hint", text: "Its parameters are set when the NS is instantiated (additionalParamsForVnf)." }));
    }
    const last = state.functions.length - 1;
    item.append(el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", "aria-label": `Move ${fn.name} up`, disabled: index === 0,
        onclick: () => { swap(state.functions, index, index - 1); restructure(`[aria-label="Move ${fn.name} up"]`); } }, "Move up"),
      el("button", { type: "button", class: "secondary", "aria-label": `Move ${fn.name} down`, disabled: index === last,
        onclick: () => { swap(state.functions, index, index + 1); restructure(`[aria-label="Move ${fn.name} down"]`); } }, "Move down"),
      el("button", { type: "button", class: "danger", "aria-label": `Remove ${fn.name}`,
        onclick: () => { state.functions.splice(index, 1); restructure("#add-choice"); } }, "Remove")));
    return item;
  }

  function drawChain() {
    const chain = $("chain");
    chain.replaceChildren(...state.functions.map(functionItem));
    $("chain-empty").hidden = state.functions.length > 0;
    const hops = [state.lan.enabled ? "LAN" : null, ...state.functions.map((f) => f.name), state.wan.enabled ? "WAN" : null]
      .filter(Boolean);
    $("path-summary").textContent = state.functions.length
      ? `Traffic path: ${hops.join(" → ")}` : "Traffic path: no function yet.";
  }

  function restructure(focusSelector) {
    const active = document.activeElement && document.activeElement.id;
    drawChain();
    let target = (focusSelector && document.querySelector(focusSelector)) || (active && $(active));
    if (target && target.disabled) target = target.parentElement.querySelector("button:not([disabled])");
    if (target) target.focus();
    changed();
  }

  function uniqueName(base) {
    const taken = new Set(state.functions.map((f) => f.name));
    if (!taken.has(base)) return base;
    for (let n = 2; n < 100; n += 1) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
    return `${base}_${Date.now()}`;
  }

  function addFunction() {
    const [source, ...rest] = $("add-choice").value.split(":");
    const type = rest.join(":");
    if (source === "native") {
      const choice = natives.find((n) => n.type === type);
      const properties = {};
      for (const spec of choice.fields) if (spec.required && spec.default === null && spec.widget === "text") properties[spec.key] = "";
      state.functions.push({ name: uniqueName(choice.function.replaceAll("-", "_")), source, type, flavourId: "default", properties });
    } else {
      const choice = packages.find((p) => p.vnfd_id === type);
      const base = (choice.product_name || "vnf").toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^[^a-z]+/, "") || "vnf";
      state.functions.push({ name: uniqueName(base), source, type, flavourId: choice.flavours[0][0], properties: {} });
    }
    restructure(`#f-${state.functions.length - 1}-name`);
  }

  function fillChoices() {
    const select = $("add-choice");
    const group = (label, options) => options.length ? el("optgroup", { label }, ...options) : null;
    select.replaceChildren(
      group("Native functions", natives.map((n) => el("option", { value: `native:${n.type}`, text: n.label }))),
      group("Onboarded VNF packages", packages.map((p) => el("option", {
        value: `package:${p.vnfd_id}`, text: `${p.product_name} ${p.software_version} (${p.vnfd_id})` }))));
  }

  // ---- identity and access points ----
  const IDENTITY = { "d-name": "name", "d-version": "version", "d-designer": "designer",
                     "d-invariant": "invariantId", "d-descriptor": "descriptorId" };

  function bindIdentity() {
    for (const [id, key] of Object.entries(IDENTITY)) {
      const input = $(id);
      input.value = state[key] || "";
      input.addEventListener("input", () => { state[key] = input.value; changed(); });
    }
    for (const end of ["lan", "wan"]) {
      const box = $(`${end}-enabled`);
      const text = $(`${end}-description`);
      box.checked = state[end].enabled;
      text.value = state[end].description || "";
      box.addEventListener("change", () => { state[end].enabled = box.checked; drawChain(); changed(); });
      text.addEventListener("input", () => { state[end].description = text.value; changed(); });
    }
  }

  // ---- live check ----
  function changed() {
    clearTimeout(checkTimer);
    $("validation").dataset.state = "checking";
    checkTimer = setTimeout(check, DEBOUNCE_MS);
  }

  function problemsOf(result) {
    if (result.ok) return result.data.problems;
    const body = result.data && typeof result.data === "object" ? result.data : {};
    const listed = (body.problems || []).map((p) => ({ where: p.where, field: p.where.replace(/^body\./, ""), message: p.message, severity: "error", line: 0 }));
    return listed.length ? listed : [{ where: "", field: "", message: ew.describeProblem(result), severity: "error", line: 0 }];
  }

  async function check() {
    const seq = ++checkSeq;
    const result = await ew.api("POST", "/ui/designer/check", state);
    if (seq !== checkSeq) return; // a newer change is being checked
    const problems = problemsOf(result);
    drawYaml(result.ok ? result.data.yaml : "", problems);
    drawProblems(problems);
    const errors = problems.filter((p) => p.severity === "error").length;
    const status = $("validation");
    const valid = result.ok && result.data.valid;
    status.dataset.state = valid ? "valid" : "invalid";
    status.className = valid ? "ok" : "bad";
    status.textContent = valid
      ? `Valid: the catalog's loader finds no problem${problems.length ? ` (${problems.length} warning${problems.length > 1 ? "s" : ""})` : ""}.`
      : `${errors} problem${errors === 1 ? "" : "s"} to fix before publishing.`;
    $("publish").disabled = !valid;
  }

  function drawYaml(text, problems) {
    const pre = $("nsd-yaml");
    const bad = new Set(problems.filter((p) => p.line).map((p) => p.line));
    pre.replaceChildren(...text.split("\n").map((line, i) =>
      el("span", { class: bad.has(i + 1) ? "yaml-line problem-line" : "yaml-line" }, `${line}\n`)));
    if (!text) pre.textContent = "(no descriptor yet: see the problems)";
    const first = pre.querySelector(".problem-line");
    if (first) pre.scrollTop = Math.max(0, first.offsetTop - pre.offsetTop - 48);
  }

  function drawProblems(problems) {
    for (const old of document.querySelectorAll("#designer .field-error")) old.remove();
    for (const input of document.querySelectorAll('#designer [aria-invalid="true"]')) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    const list = $("problems");
    list.replaceChildren();
    problems.forEach((p, n) => {
      list.append(el("li", { class: p.severity === "error" ? "bad" : "warn" },
        p.where ? el("code", { text: p.where }) : null, p.where ? " " : null,
        `${p.severity === "warning" ? "warning: " : ""}${p.message}`));
      const input = inputFor(p.field || "");
      if (!input) return;
      const id = `problem-${n}`;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      input.insertAdjacentElement("afterend", el("p", { class: "field-error", id, role: "alert", text: p.message }));
    });
  }

  function inputFor(fieldPath) {
    const aliases = { invariant_id: "invariantId", descriptor_id: "descriptorId" };
    let path = fieldPath;
    while (path) {
      const found = document.querySelector(`#designer input[data-field="${CSS.escape(path)}"], #designer select[data-field="${CSS.escape(path)}"], #designer textarea[data-field="${CSS.escape(path)}"]`);
      const id = Object.entries(IDENTITY).find(([, key]) => key === (aliases[path] || path));
      if (found || id) return found || $(id[0]);
      const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
      path = cut > 0 ? path.slice(0, cut) : "";
    }
    return null;
  }

  // ---- publish ----
  async function publish() {
    const button = $("publish");
    const out = $("publish-result");
    button.disabled = true;
    const result = await ew.api("POST", "/ui/designer/publish", state);
    if (result.ok) {
      const info = result.data;
      out.replaceChildren(el("p", { class: "notice", role: "status" },
        `Published: NS descriptor ${info.id}, “${info.nsdName}” version ${info.nsdVersion} (invariant id ${info.nsdInvariantId}), onboarded and ${info.nsdOperationalState}. `,
        el("a", { href: info._links.nextVersion.href, text: "Design its next version" })));
      out.dataset.nsdId = info.id;
    } else {
      out.replaceChildren(el("p", { class: "error publish-error", role: "alert", text: ew.describeProblem(result) }));
      button.disabled = false;
    }
    out.focus();
  }

  function init() {
    const data = JSON.parse($("designer-data").textContent);
    palette = data.palette;
    natives = palette.natives;
    packages = palette.packages;
    state = data.design;
    fillChoices();
    bindIdentity();
    drawChain();
    $("add-function").addEventListener("click", addFunction);
    $("publish").addEventListener("click", publish);
    check();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
