// Package openapicheck holds the test that checks the API's OpenAPI
// document against the handler with github.com/getkin/kin-openapi: the
// document is valid, names exactly the routes the handler serves, and every
// example request, sent to a handler over the in-memory tenant, is valid
// and answered as the document says.
package openapicheck
