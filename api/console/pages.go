package console

import (
	"github.com/gin-gonic/gin"
)

const pageSize = 50

func viewerOf(ctx *gin.Context) viewer { return ctx.MustGet(viewerKey).(viewer) }
