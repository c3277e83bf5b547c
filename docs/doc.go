// Package docs holds the project's documentation by reader (Markdown
// beside this file) and the test that keeps it true to the repository:
// every relative link names a file that exists, every test it cites and
// every make target it gives exist.
package docs
