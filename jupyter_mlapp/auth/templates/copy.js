// The account page's "Copy" button: puts the new API token on the clipboard. A file of its own,
// since the pages' Content-Security-Policy runs no inline script.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      document.execCommand("copy"); // browsers that keep the clipboard API from this page
    }
    button.textContent = "Copied";
  });
}
