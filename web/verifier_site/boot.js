// A classic script: if the verifier's modules could not run (a browser without ES modules,
// or the page opened from a file:// address, where browsers refuse to load modules), say so
// instead of leaving a form that does nothing.
window.addEventListener("load", function () {
  if (document.documentElement.getAttribute("data-ready") === "yes") return;
  var box = document.getElementById("verdict");
  var why =
    location.protocol === "file:"
      ? "This verifier must be opened from a web address (any static host, or a local web server): browsers do not run its modules from a file:// page."
      : "This browser could not run the verifier's modules, so nothing was checked.";
  box.setAttribute("data-verdict", "failed");
  box.setAttribute("data-reason", "Not verified: " + why);
  box.className = "device-check device-bad";
  box.textContent = "Not verified: " + why;
});
