// Package docs holds the project's documentation by reader (Markdown
// beside this file) and the test that keeps it true to the repository:
// every relative link names a file that exists, and so does every path,
// test and make target it cites; the README's map of the packages names
// every package under app/.
package docs
