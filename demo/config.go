package demo

import "github.com/hallwatch/hallwatch/config"

// Hall places one simulated camera in the city's hierarchy.
type Hall struct {
	District, DistrictName string
	Center, CenterName     string
	Camera, CameraName     string // Camera is a CameraSpec ID
}

// AddTo adds a district, center and camera for each hall to cfg (districts
// and centers shared by several halls are added once), each camera with
// its scene's URL and analytics.
func (c *Camera) AddTo(cfg *config.Config, halls []Hall) {
	for _, h := range halls {
		d := findOrAdd(&cfg.Districts, func(d *config.District) bool { return d.ID == h.District },
			config.District{ID: h.District, Name: h.DistrictName})
		ctr := findOrAdd(&d.Centers, func(x *config.Center) bool { return x.ID == h.Center },
			config.Center{ID: h.Center, Name: h.CenterName})
		ctr.Cameras = append(ctr.Cameras, config.Camera{ID: h.Camera, Name: h.CameraName, URL: c.URL(h.Camera), Analytics: c.Analytics(h.Camera)})
	}
}

func findOrAdd[T any](list *[]T, match func(*T) bool, add T) *T {
	for i := range *list {
		if match(&(*list)[i]) {
			return &(*list)[i]
		}
	}
	*list = append(*list, add)
	return &(*list)[len(*list)-1]
}
