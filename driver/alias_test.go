package driver

import (
	"context"

	"github.com/svckit/svckit/resource"
)

type (
	Ctx = context.Context
	Res = resource.Resource
)
