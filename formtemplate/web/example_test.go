package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/formtemplate/web"
	"github.com/svckit/svckit/internal/atomicfile"
)

// A tool mounts the form on its mux; a browser gets the page, a program
// asking for JSON gets JSON. The store here writes <name>.conf in a
// directory (svc/store.Dir does the same with revisions, see README).
func ExampleNew() {
	form := &formtemplate.Form{
		Label: "database",
		Inputs: []formtemplate.Input{
			{ID: "name", Label: "Name", Type: formtemplate.String, Mandatory: true, Pattern: "[a-z][a-z0-9-]*"},
			{ID: "size", Label: "Size", Type: formtemplate.Size, Default: "17g"},
			{ID: "db_password", Label: "Root password", Type: formtemplate.String, Mandatory: true},
		},
		Outputs: []formtemplate.Output{{Name: "config", Template: "[disk#{{.name}}]\nsize = {{.size}}\nrun_args = -e DB_PASSWORD={{shellquote .db_password}}\n"}},
	}
	dir, err := os.MkdirTemp("", "formweb")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	root, err := os.OpenRoot(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer root.Close()
	store := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		// The form's pattern keeps the name a plain file name; the root
		// keeps it inside the directory whatever it holds.
		name := s.Values.String("name") + ".conf"
		data := s.Documents[0].Data
		if err := atomicfile.WriteFileIn(root, name, data, 0o600, atomicfile.Keep); err != nil {
			return web.Receipt{}, err
		}
		sum := sha256.Sum256(data)
		return web.Receipt{Location: name, Revision: hex.EncodeToString(sum[:6])}, nil
	})
	h, err := web.New(form, web.Options{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/forms/database", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(answers url.Values) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/forms/database", strings.NewReader(answers.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	post(url.Values{"name": {"Main DB"}, "size": {"lots"}})
	post(url.Values{"name": {"main"}, "db_password": {"s3cr3t pw"}})
	// The page and the JSON mask the password; the store got it.
	stored, _ := root.ReadFile("main.conf")
	fmt.Println(strings.Contains(string(stored), "DB_PASSWORD='s3cr3t pw'"))
	// Output:
	// 422 {
	//   "problems": [
	//     {
	//       "input": "name",
	//       "message": "\"Main DB\" does not match [a-z][a-z0-9-]*"
	//     },
	//     {
	//       "input": "size",
	//       "message": "\"lots\" is not a size: expected a number with an optional unit (k, m, g, t), like 17g"
	//     },
	//     {
	//       "input": "db_password",
	//       "message": "is mandatory"
	//     }
	//   ]
	// }
	// 200 {
	//   "documents": [
	//     {
	//       "output": "config",
	//       "bytes": 69,
	//       "data": "[disk#main]\nsize = 18253611008\nrun_args = -e DB_PASSWORD='xxxx'\n"
	//     }
	//   ],
	//   "stored": {
	//     "location": "main.conf",
	//     "revision": "a981f2f33c01"
	//   }
	// }
	// true
}
