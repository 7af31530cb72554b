// Module openapicheck checks the API's OpenAPI document with
// github.com/getkin/kin-openapi. It is a module of its own because
// kin-openapi needs a newer go line than eradicate's; the api package's
// TestOpenAPIDocument runs its tests.
module github.com/eradicate-dev/eradicate/api/internal/openapicheck

go 1.25

require (
	github.com/eradicate-dev/eradicate v0.0.0
	github.com/getkin/kin-openapi v0.153.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/coreos/go-oidc/v3 v3.17.0 // indirect
	github.com/emersion/go-ical v0.0.0-20250329121855-f41e73efc392 // indirect
	github.com/emersion/go-message v0.18.2 // indirect
	github.com/go-jose/go-jose/v4 v4.1.3 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	github.com/teambition/rrule-go v1.8.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/net v0.47.0 // indirect
	golang.org/x/oauth2 v0.28.0 // indirect
	golang.org/x/text v0.31.0 // indirect
)

replace github.com/eradicate-dev/eradicate => ../../..
