// Command gitea is Gitea v1.26.0 built from the Go module proxy, for the
// real-git-host end-to-end tests and `make gitea` (see hack/gitea/up). It is
// Gitea's own main.go: the markup renderers it registers and cmd's app.
package main

import (
	"os"
	"runtime"
	"time"

	"code.gitea.io/gitea/cmd"
	"code.gitea.io/gitea/modules/log"
	"code.gitea.io/gitea/modules/setting"

	_ "code.gitea.io/gitea/modules/markup/markdown"

	"github.com/urfave/cli/v3"
)

// Version is set by hack/gitea/build (-X main.Version=…): /api/v1/version
// answers it, and the Gitea SDK refuses a server that says "development".
var Version = "development"

func init() {
	setting.AppVer = Version
	setting.AppBuiltWith = " built with " + runtime.Version() + " : sqlite, sqlite_unlock_notify"
	setting.AppStartTime = time.Now().UTC()
}

func main() {
	cli.OsExiter = func(code int) {
		log.GetManager().Close()
		os.Exit(code)
	}
	app := cmd.NewMainApp(cmd.AppVersion{Version: Version, Extra: setting.AppBuiltWith})
	_ = cmd.RunMainApp(app, os.Args...)
	log.GetManager().Close()
}
