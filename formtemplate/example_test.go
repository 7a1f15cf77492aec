package formtemplate_test

import (
	"errors"
	"fmt"

	"github.com/svckit/svckit/formtemplate"
)

func ExampleForm_Submit() {
	form := &formtemplate.Form{
		Label: "volume",
		Inputs: []formtemplate.Input{
			{ID: "name", Type: formtemplate.String, Mandatory: true, Pattern: "[a-z][a-z0-9-]*"},
			{ID: "size", Type: formtemplate.Size, Default: "17g", Min: formtemplate.Int64(1 << 30)},
			{ID: "copies", Type: formtemplate.Integer, Default: "1", Min: formtemplate.Int64(1), Max: formtemplate.Int64(3)},
		},
		Outputs: []formtemplate.Output{{Name: "section", Template: "[disk#{{.name}}]\nsize = {{.size}}\ncopies = {{.copies}}\n"}},
	}
	_, err := form.Submit(map[string]any{"name": "Data", "size": "10m", "copies": "4"})
	var verr *formtemplate.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Println(p)
		}
	}
	values, _ := form.Submit(map[string]any{"name": "data", "copies": 2})
	docs, err := form.Generate(values, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(docs[0].Data))
	// Output:
	// name: "Data" does not match [a-z][a-z0-9-]*
	// size: 10m is less than the minimum 1073741824
	// copies: 4 is more than the maximum 3
	// [disk#data]
	// size = 18253611008
	// copies = 2
}
