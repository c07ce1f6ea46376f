/*
Copyright 2026 The hookrun Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// renderPlot draws one plot spec as a PNG.
func renderPlot(spec Plot, path string) error {
	p := plot.New()
	p.Title.Text = spec.Title
	p.X.Label.Text = spec.XLabel
	p.Y.Label.Text = spec.YLabel
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	if spec.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if spec.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	var err error
	xmin, xmax := 0.0, 0.0
	switch spec.Kind {
	case "bar":
		xmin, xmax, err = addBars(p, spec)
	case "dots":
		xmin, xmax, err = addDots(p, spec)
	default:
		xmin, xmax, err = addLines(p, spec)
	}
	if err != nil {
		return err
	}
	for i, h := range spec.HLines {
		y := h.Y
		line, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: y}, {X: xmax, Y: y}})
		if err != nil {
			return err
		}
		line.Color = []color.Color{color.RGBA{R: 120, G: 120, B: 120, A: 255}, color.RGBA{R: 200, G: 40, B: 40, A: 255}}[i%2]
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (%.3g)", h.Name, h.Y), line)
		if !spec.LogY && y*1.1 > p.Y.Max {
			p.Y.Max = y * 1.1
		}
	}
	if !spec.LogY && p.Y.Min > 0 {
		p.Y.Min = 0
	}
	// Room above the data for the legend.
	entries := len(spec.Series) + len(spec.HLines)
	if !spec.LogY {
		p.Y.Max *= 1 + 0.1*float64(entries+1)
	} else {
		p.Y.Max *= math.Pow(10, 0.3*float64(entries+1))
	}
	width := 9 * vg.Inch
	if n := len(spec.Categories); n > 8 {
		width = vg.Length(math.Min(16, 9+0.6*float64(n-8))) * vg.Inch
	}
	return p.Save(width, 5*vg.Inch, path)
}

// errorBars are YErrorBars from a series' low/high values.
type errorBars struct {
	plotter.XYs
	plotter.YErrors
}

func addLines(p *plot.Plot, spec Plot) (xmin, xmax float64, err error) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i, s := range spec.Series {
		xys := make(plotter.XYs, len(s.Y))
		for j := range s.Y {
			x := float64(j + 1)
			if j < len(s.X) {
				x = s.X[j]
			}
			xys[j] = plotter.XY{X: x, Y: s.Y[j]}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return 0, 0, err
		}
		c := plotutil.Color(i)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(i)
		points.Radius = vg.Points(4)
		line.Width = vg.Points(2)
		if i > 0 && len(s.YLow) == 0 {
			line.Dashes = plotutil.Dashes(i)
		}
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
		if bars := yErrorBars(xys, s); bars != nil {
			bars.Color = c
			p.Add(bars)
		}
	}
	if math.IsInf(xmin, 1) {
		xmin, xmax = 0, 1
	}
	if !spec.LogX {
		p.X.Min = math.Min(p.X.Min, 0)
		p.X.Max = xmax + 0.05*(xmax-p.X.Min)
	}
	return math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max), nil
}

// addDots draws each series as points over the categories: bars cannot
// start at zero on a log scale.
func addDots(p *plot.Plot, spec Plot) (xmin, xmax float64, err error) {
	ymin := math.Inf(1)
	for i, s := range spec.Series {
		xys := make(plotter.XYs, len(s.Y))
		for j, y := range s.Y {
			xys[j] = plotter.XY{X: float64(j), Y: y}
			ymin = math.Min(ymin, y)
			if j < len(s.YLow) {
				ymin = math.Min(ymin, s.YLow[j])
			}
		}
		points, err := plotter.NewScatter(xys)
		if err != nil {
			return 0, 0, err
		}
		points.Color, points.Shape = plotutil.Color(i), plotutil.Shape(i)
		points.Radius = vg.Points(4)
		p.Add(points)
		p.Legend.Add(s.Name, points)
		if bars := yErrorBars(xys, s); bars != nil {
			bars.Color = plotutil.Color(i)
			p.Add(bars)
		}
	}
	if len(spec.Categories) > 0 {
		p.NominalX(spec.Categories...)
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
	}
	if spec.LogY && ymin > 0 && !math.IsInf(ymin, 1) {
		p.Y.Min = ymin / 2
	}
	p.X.Min, p.X.Max = -0.5, float64(len(spec.Categories))-0.5
	return -0.5, float64(len(spec.Categories)) - 0.5, nil
}

func addBars(p *plot.Plot, spec Plot) (xmin, xmax float64, err error) {
	n := len(spec.Series)
	width := vg.Points(math.Min(40, 360/float64(max(1, n*len(spec.Categories)))))
	for i, s := range spec.Series {
		values := plotter.Values(s.Y)
		bars, err := plotter.NewBarChart(values, width)
		if err != nil {
			return 0, 0, err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-float64(n-1)/2) * width
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
		if len(s.YLow) == len(s.Y) && len(s.YHigh) == len(s.Y) {
			// Error bars sit over each bar's center: the offset in data
			// units is found after the axes are set, so draw them with the
			// bars' own offset through a custom plotter.
			p.Add(&barErrors{series: s, offset: bars.Offset})
		}
	}
	if len(spec.Categories) > 0 {
		p.NominalX(spec.Categories...)
	}
	p.X.Tick.Label.Rotation = 0
	return -0.5, float64(len(spec.Categories)) - 0.5, nil
}

// yErrorBars returns error bars for a line series, or nil.
func yErrorBars(xys plotter.XYs, s Series) *plotter.YErrorBars {
	if len(s.YLow) != len(s.Y) || len(s.YHigh) != len(s.Y) {
		return nil
	}
	errs := make(plotter.YErrors, len(s.Y))
	for j := range s.Y {
		errs[j].Low, errs[j].High = s.Y[j]-s.YLow[j], s.YHigh[j]-s.Y[j]
	}
	bars, err := plotter.NewYErrorBars(errorBars{XYs: xys, YErrors: errs})
	if err != nil {
		return nil
	}
	return bars
}

// barErrors draws min–max whiskers over grouped bars.
type barErrors struct {
	series Series
	offset vg.Length
}

func (b *barErrors) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	style := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	cap := vg.Points(4)
	for i := range b.series.Y {
		x := trX(float64(i)) + b.offset
		lo, hi := trY(b.series.YLow[i]), trY(b.series.YHigh[i])
		c.StrokeLine2(style, x, lo, x, hi)
		c.StrokeLine2(style, x-cap, lo, x+cap, lo)
		c.StrokeLine2(style, x-cap, hi, x+cap, hi)
	}
}

// DataRange makes the whiskers' tops count when the axes are sized.
func (b *barErrors) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for i := range b.series.Y {
		ymin, ymax = math.Min(ymin, b.series.YLow[i]), math.Max(ymax, b.series.YHigh[i])
	}
	return 0, float64(len(b.series.Y) - 1), ymin, ymax
}
