// The admin's Excel import: the chosen file goes up as the raw body with the CSRF header; the server
// answers an HTML fragment (our own template, autoescaped) that replaces the result area. "Import"
// is enabled only after a clean preview of the same file and kind.
export function setUpImport(form) {
  const result = document.getElementById("import-result");
  const fileInput = form.querySelector("#import-file");
  const kind = form.querySelector("#import-kind");
  const applyBtn = form.querySelector("#import-apply");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
  const reset = () => {
    applyBtn.disabled = true;
  };
  fileInput.addEventListener("change", reset);
  kind.addEventListener("change", reset);

  form.addEventListener("click", async (e) => {
    const btn = e.target instanceof Element ? e.target.closest("[data-import-mode]") : null;
    if (!btn) return;
    e.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      result.textContent = form.dataset.pick;
      return;
    }
    const mode = btn.getAttribute("data-import-mode");
    result.textContent = form.dataset.working;
    btn.disabled = true;
    try {
      const res = await fetch(`/m/admin/import/${encodeURIComponent(kind.value)}?mode=${mode}`, {
        method: "POST",
        headers: { "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "x-csrf-token": csrf },
        body: file,
        credentials: "same-origin",
      });
      const html = await res.text();
      if (res.status !== 200 && res.status !== 422) throw new Error(String(res.status));
      result.innerHTML = html;
      const ok = result.querySelector("[data-ok]")?.getAttribute("data-ok") === "true";
      const applied = result.querySelector("[data-applied]") !== null;
      applyBtn.disabled = !(ok && mode === "preview") || applied;
    } catch {
      result.textContent = form.dataset.failed;
      applyBtn.disabled = true;
    } finally {
      if (mode === "preview") btn.disabled = false;
    }
  });
}
