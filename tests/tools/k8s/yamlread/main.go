// yamlread reads a YAML stream the way kubectl, Helm and Argo CD read it (sigs.k8s.io/yaml over Go's
// YAML 1.1 rules) and prints each document as one line of JSON, so a test can see what a Go reader
// makes of every scalar compose writes: a quoted "on" stays a string, a bare on becomes true.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "yamlread:", err)
			os.Exit(1)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		out, err := yaml.YAMLToJSON(doc)
		if err != nil {
			fmt.Fprintln(os.Stderr, "yamlread:", err)
			os.Exit(1)
		}
		fmt.Println(string(out))
	}
}
