//! Relay connections over any listed type, and the two ways to resolve one:
//! a top-level list, or the rows related to a parent (batched by the loaders).

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::connection::{EmptyFields, PageInfo};
use async_graphql::parser::types::{Field, Selection};
use async_graphql::{
    Context, ContextSelectionSet, Object, OutputType, Positioned, ServerResult, TypeName, Value,
};
use futures_util::future::BoxFuture;
use sea_orm::ModelTrait;

use crate::engine::lean::{Lean, LeanList, Leaves};
use crate::engine::listing::{ListArgs, Listed};
use crate::engine::loaders::{Count, EdgeData, Many, Page, Siblings, ToMany, count_all, list_page};
use crate::engine::pagination::{Direction, SortValue, encode_cursor};
use crate::engine::request::{loaders, reader, request_db};
use crate::error::{ApiError, ApiResult};

/// A page of a list, with its cursors and the size of the whole list, resolved
/// leanly (see [`Lean`]).
pub type Connection<T, E> = Lean<ConnectionPage<T, E>>;

/// A page of a list, with its cursors and the size of the whole list.
pub struct ConnectionPage<T: Listed, E: EdgeData> {
    edges: Vec<Edge<T, E>>,
    has_previous_page: bool,
    has_next_page: bool,
    total: Box<dyn TotalCount>,
}

/// One item of a page and where it stands in the list.
pub struct Edge<T: Listed, E: EdgeData> {
    node: T,
    data: E,
    args: Arc<ListArgs<T>>,
}

/// How a connection counts its whole list, when `totalCount` is asked for.
#[async_trait::async_trait]
trait TotalCount: Send + Sync {
    async fn total(&self, ctx: &Context<'_>) -> ApiResult<i64>;
}

/// A page of the list of every `T` that matches the arguments' filter.
///
/// Boxed, like [`related`]: async-graphql sizes every field's future by the largest
/// field of its type, and moves each one; a small future keeps scalar fields cheap.
pub async fn top_level<T: Listed>(
    ctx: &Context<'_>,
    args: Arc<ListArgs<T>>,
) -> ApiResult<Connection<T, EmptyFields>> {
    Box::pin(top_level_page(ctx, args)).await
}

async fn top_level_page<T: Listed>(
    ctx: &Context<'_>,
    args: Arc<ListArgs<T>>,
) -> ApiResult<Connection<T, EmptyFields>> {
    let page = if args.rows_wanted {
        list_page(&request_db(ctx)?, reader(ctx)?, &args).await?
    } else {
        Page::default()
    };
    Ok(Lean(ConnectionPage::new(
        page,
        &args,
        Box::new(TopLevelCount(args.clone())),
    )))
}

/// A page of the rows related to `parent` through `R`, batched with its siblings.
pub async fn related<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ApiResult<Connection<R::Target, R::Edge>> {
    Box::pin(related_page::<R>(ctx, parent, args)).await
}

/// The answer of the connection field `ctx` resolves, of the relation `R` of
/// `parent`, with arguments worked out already (see [`Leaves::connection`]): as
/// the field's generated resolver answers.
pub async fn answer_related<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ServerResult<Option<Value>> {
    let connection = related::<R>(ctx, parent, args).await.map_err(|err| {
        ctx.set_error_path(async_graphql::Error::from(err).into_server_error(ctx.item.pos))
    })?;
    let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
    OutputType::resolve(&connection, &selection, ctx.item)
        .await
        .map(Some)
}

async fn related_page<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ApiResult<Connection<R::Target, R::Edge>> {
    let page = if args.rows_wanted {
        let loaders = loaders(ctx)?;
        // Folded into the statement that read the parent, or loaded with its siblings.
        let page = match loaders.loader().primed.page::<R>(parent, &args) {
            Some(page) => Some(page),
            None => {
                let key = Many::<R> {
                    parent,
                    args: args.clone(),
                };
                loaders.load_one(key).await?
            }
        };
        match page {
            // A loaded page's batch has let go of it by now, so its rows are taken
            // as they are; a folded page stays primed for a second lookup of the
            // same parent, so its rows are cloned.
            Some(page) => Arc::try_unwrap(page).unwrap_or_else(|page| (*page).clone()),
            None => Page::default(),
        }
    } else {
        Page::default()
    };
    // Counted by the page's statement, or else by a statement of its own if asked.
    let total: Box<dyn TotalCount> = match page.total {
        Some(counted) => Box::new(Counted(counted)),
        None => Box::new(RelatedCount::<R> {
            parent,
            args: args.clone(),
            relation: PhantomData,
        }),
    };
    Ok(Lean(ConnectionPage::new(page, &args, total)))
}

impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    fn new(page: Page<T, E>, args: &Arc<ListArgs<T>>, total: Box<dyn TotalCount>) -> Self {
        let mut edges: Vec<Edge<T, E>> = page
            .rows
            .into_iter()
            .map(|(node, data)| Edge {
                node,
                data,
                args: args.clone(),
            })
            .collect();
        let resumed = args.window.cursor.is_some();
        let (has_previous_page, has_next_page) = match args.window.direction {
            Direction::Forward => (resumed, page.has_more),
            Direction::Backward => {
                edges.reverse();
                (page.has_more, resumed)
            }
        };
        Self {
            edges,
            has_previous_page,
            has_next_page,
            total,
        }
    }
}

/// A page of a list: its edges (or just nodes), where it stands, and the list's size.
#[Object(name_type)]
impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    /// The items of this page, each with its cursor.
    async fn edges(&self, ctx: &Context<'_>) -> LeanList<'_, Edge<T, E>> {
        let edges = ctx.with_selection_set(&ctx.item.node.selection_set);
        if let Some(items) = plain_fields(&edges) {
            for node in items.filter(|field| field.node.name.node == "node") {
                let node = edges.with_field(node);
                let rows = node.with_selection_set(&node.item.node.selection_set);
                self.load_pages(&rows).await;
            }
        }
        LeanList(self.edges.iter().collect())
    }

    /// The items of this page, without cursors.
    async fn nodes(&self, ctx: &Context<'_>) -> LeanList<'_, T> {
        self.load_pages(&ctx.with_selection_set(&ctx.item.node.selection_set))
            .await;
        LeanList(self.edges.iter().map(|edge| &edge.node).collect())
    }

    /// Where this page stands in the list, and the cursors to page on.
    async fn page_info(&self) -> ApiResult<PageInfo> {
        let cursor = |edge: Option<&Edge<T, E>>| edge.map(Edge::cursor_string).transpose();
        Ok(PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: cursor(self.edges.first())?,
            end_cursor: cursor(self.edges.last())?,
        })
    }

    /// How many items the whole list holds with this filter, whatever the page.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let total = self.total.total(ctx).await?;
        i32::try_from(total).map_err(ApiError::internal)
    }
}

impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    /// Before the page's rows resolve `rows` (their selection): the pages of each
    /// connection field it asks for, loaded for every row of the page at once (see
    /// [`Siblings`]), where each row's field takes its page. Only for a selection of
    /// fields without directives: a field that a fragment selects too would load
    /// its pages again.
    async fn load_pages(&self, rows: &ContextSelectionSet<'_>) {
        let Some(items) = plain_fields(rows) else {
            return;
        };
        // Only the connection fields: most lists' rows select none (a comment's
        // `id` and `body`), and then the list costs nothing more.
        let connection = |field: &Positioned<Field>| {
            let name = field.node.name.node.as_str();
            T::TO_MANY.iter().any(|many| many.field() == name)
        };
        let mut fields = Vec::new();
        for field in items.filter(|field| connection(field)) {
            fields.push(rows.with_field(field));
        }
        if self.edges.is_empty() || fields.is_empty() {
            return;
        }
        let parents: Arc<[i32]> = self.edges.iter().map(|edge| edge.node.id()).collect();
        let mut loading = Vec::new();
        for field in &fields {
            loading.extend(T::load_pages(field, &parents));
        }
        futures_util::future::join_all(loading).await;
    }
}

/// The fields of a selection made of fields alone, without directives.
fn plain_fields<'a>(
    selection: &ContextSelectionSet<'a>,
) -> Option<impl Iterator<Item = &'a Positioned<Field>> + use<'a>> {
    let items = &selection.item.node.items;
    let field = |item: &'a Positioned<Selection>| match &item.node {
        Selection::Field(field) => Some(field),
        _ => None,
    };
    let plain = |item| field(item).is_some_and(|field| field.node.directives.is_empty());
    items
        .iter()
        .all(plain)
        .then(|| items.iter().filter_map(field))
}

/// The page of each of `parents` (the rows of one list) that the connection field
/// `ctx` resolves asks for, of the relation `R`: loaded together with the other
/// lists' and primed, before the rows resolve. Nothing when its arguments do not
/// parse or validate, or the load fails: each row's field then reports why.
pub fn load_siblings<'a, R: ToMany>(
    ctx: &'a Context<'a>,
    parents: &Arc<[i32]>,
) -> BoxFuture<'a, ()> {
    let parents = parents.clone();
    Box::pin(async move {
        let Some(args) = ListArgs::<R::Target>::of_field(ctx) else {
            return;
        };
        if let (true, Ok(loaders)) = (args.rows_wanted, loaders(ctx)) {
            let _ = loaders.load_one(Siblings::<R> { parents, args }).await;
        }
    })
}

impl<T: Listed, E: EdgeData> Leaves for ConnectionPage<T, E> {}

impl<T: Listed, E: EdgeData> TypeName for ConnectionPage<T, E> {
    fn type_name() -> Cow<'static, str> {
        format!("{}{}Connection", E::PREFIX, T::NAME).into()
    }
}

impl<T: Listed, E: EdgeData> Edge<T, E> {
    fn cursor_string(&self) -> ApiResult<String> {
        let ordering = &self.args.window.ordering;
        let key = ordering
            .terms
            .iter()
            .map(|(field, _)| SortValue::from_value(self.node.model().get(T::column(*field))))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(encode_cursor(T::NAME, ordering, &key))
    }
}

/// An item of a page, with the cursor to page on from it.
#[Object(name_type)]
impl<T: Listed, E: EdgeData> Edge<T, E> {
    /// An opaque cursor: give it as `after` (or `before`) to page on from this item.
    async fn cursor(&self) -> ApiResult<String> {
        self.cursor_string()
    }

    /// The item.
    async fn node(&self) -> Lean<&T> {
        Lean(&self.node)
    }

    #[graphql(flatten)]
    async fn data(&self) -> &E {
        &self.data
    }
}

impl<T: Listed, E: EdgeData> Leaves for Edge<T, E> {}

impl<T: Listed, E: EdgeData> TypeName for Edge<T, E> {
    fn type_name() -> Cow<'static, str> {
        format!("{}{}Edge", E::PREFIX, T::NAME).into()
    }
}

/// A count that the page's own statement made.
struct Counted(i64);

#[async_trait::async_trait]
impl TotalCount for Counted {
    async fn total(&self, _: &Context<'_>) -> ApiResult<i64> {
        Ok(self.0)
    }
}

struct TopLevelCount<T: Listed>(Arc<ListArgs<T>>);

#[async_trait::async_trait]
impl<T: Listed> TotalCount for TopLevelCount<T> {
    async fn total(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(count_all(&request_db(ctx)?, reader(ctx)?, &self.0).await?)
    }
}

struct RelatedCount<R: ToMany> {
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
    relation: PhantomData<fn() -> R>,
}

#[async_trait::async_trait]
impl<R: ToMany> TotalCount for RelatedCount<R> {
    async fn total(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let key = Count::<R> {
            parent: self.parent,
            args: self.args.clone(),
        };
        Ok(loaders(ctx)?.load_one(key).await?.unwrap_or(0))
    }
}
