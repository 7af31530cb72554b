package api

import (
	_ "embed"
)

//go:embed openapi.yaml
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3 document of the API (YAML), as GET
// /eradicate/v1/openapi.yaml serves it.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (h *Handler) openAPI(c *call) error {
	c.w.Header().Set("Content-Type", "application/yaml")
	_, err := c.w.Write(openAPIDoc)
	return err
}
